// schemas.js - loads docs/schemas/ into ajv (draft 2020-12, strict, with
// ajv-formats), checking what docs/contracts.md promises about each file:
// draft 2020-12, compiles, and the one mapping from dataschema to file:
// $id "urn:event:<type>:<major>" lives in "<type>.v<major>.json", the
// envelope's $id "urn:event:envelope:1" in "envelope.v1.json".
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';
const ENVELOPE_ID = 'urn:event:envelope:1';

// The file a schema $id must live in ("" when the $id has not our form).
function fileOf(id) {
  const m = /^urn:event:([a-z][a-z0-9_.]*):([1-9][0-9]{0,2})$/.exec(id || '');
  return m ? `${m[1]}.v${m[2]}.json` : '';
}

// Returns {ajv, ids}: every schema of dir added under its $id. Throws an Error naming the file.
function loadSchemas(dir) {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const ids = [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`${dir}: no schemas`);
  for (const f of files) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    if (schema.$schema !== DRAFT) throw new Error(`${f}: $schema is not ${DRAFT}`);
    if (fileOf(schema.$id) !== f) throw new Error(`${f}: $id '${schema.$id}' must live in '${fileOf(schema.$id)}'`);
    ajv.addSchema(schema); // validates the schema against the 2020-12 meta-schema
    ajv.getSchema(schema.$id); // compiles it: throws on what strict mode refuses
    ids.push(schema.$id);
  }
  if (!ids.includes(ENVELOPE_ID)) throw new Error(`${dir}: no envelope schema (${ENVELOPE_ID})`);
  return { ajv, ids };
}

module.exports = { loadSchemas, fileOf, ENVELOPE_ID };
