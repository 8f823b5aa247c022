#!/usr/bin/env node
// validate_payloads.js - validates real events against docs/schemas/ with ajv
// (JSON Schema draft 2020-12), an implementation nobody here wrote. Input: one
// JSON object per line, {"context": <outbox schema>, "payload": <the CloudEvent
// as stored in <context>.outbox>}, as tests/e2e/test_contract_schemas.c dumps
// them. Each payload must pass the envelope schema, and its data the schema
// whose $id is its dataschema; an event type without a schema fails.
//
// Usage: node validate_payloads.js <schemas dir> <payloads.jsonl>
// Prints one line per event type seen; exit 1 on the first kind of failure.
'use strict';
const fs = require('fs');
const { loadSchemas, ENVELOPE_ID } = require('./schemas');

function fail(msg) {
  console.error(`validate_payloads: ${msg}`);
  process.exit(1);
}

function errorsOf(validate) {
  return validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

function main() {
  const [dir, file] = process.argv.slice(2);
  if (!dir || !file) fail('usage: node validate_payloads.js <schemas dir> <payloads.jsonl>');
  let loaded;
  try {
    loaded = loadSchemas(dir);
  } catch (e) {
    fail(`schemas: ${e.message}`);
  }
  const { ajv } = loaded;
  const envelope = ajv.getSchema(ENVELOPE_ID);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) fail(`${file}: no events to validate`);
  const seen = new Map();
  const problems = [];
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    let row;
    try {
      row = JSON.parse(line);
    } catch (e) {
      problems.push(`${where}: not JSON: ${e.message}`);
      return;
    }
    const ev = row.payload || {};
    const label = `${row.context}.outbox ${ev.type} ${ev.id}`;
    if (!envelope(ev)) problems.push(`${where}: ${label}: envelope: ${errorsOf(envelope)}`);
    const validate = ajv.getSchema(String(ev.dataschema));
    if (!validate) {
      problems.push(`${where}: ${label}: no schema for dataschema '${ev.dataschema}'`);
    } else if (ev.dataschema !== `urn:event:${ev.type}:${ev.dataschema.split(':').pop()}`) {
      problems.push(`${where}: ${label}: dataschema '${ev.dataschema}' is not of type '${ev.type}'`);
    } else if (!validate(ev.data)) {
      problems.push(`${where}: ${label}: data: ${errorsOf(validate)}`);
    }
    seen.set(ev.dataschema, (seen.get(ev.dataschema) || 0) + 1);
  });
  for (const [schema, n] of [...seen].sort()) console.log(`validate_payloads: ${schema}: ${n} event(s)`);
  if (problems.length) fail(`${problems.length} invalid event(s):\n  ${problems.join('\n  ')}`);
  console.log(`validate_payloads: ${lines.length} event(s) of ${seen.size} type(s) valid`);
}

main();
