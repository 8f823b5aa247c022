#!/usr/bin/env node
// check_asyncapi.js - validates docs/asyncapi.yaml with @asyncapi/parser, an
// implementation of the AsyncAPI 3.0 specification nobody here wrote. Fails on
// any diagnostic of severity 0 (error), and on a document that lacks what we
// promise: a channel per event type with the AMQP topic-exchange binding, a
// send operation per type and the receive operations, each message's payload
// and correlation id.
//
// Usage: node check_asyncapi.js <asyncapi.yaml> [<schemas dir>]
'use strict';
const fs = require('fs');
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');
const { loadSchemas } = require('./schemas');

function fail(msg) {
  console.error(`check_asyncapi: ${msg}`);
  process.exit(1);
}

// A schema without the keywords only a standalone file has, nor those the parser adds.
function stripMeta(schema) {
  const { $schema, $id, title, $comment, ...rest } = schema;
  return JSON.parse(JSON.stringify(rest, (k, v) => (k.startsWith('x-parser-') ? undefined : v)));
}

async function main() {
  const [file, schemasDir] = process.argv.slice(2);
  if (!file) fail('usage: node check_asyncapi.js <asyncapi.yaml> [<schemas dir>]');
  let schemas = null;
  if (schemasDir) {
    try {
      schemas = loadSchemas(schemasDir);
    } catch (e) {
      fail(`schemas: ${e.message}`);
    }
  }
  const text = fs.readFileSync(file, 'utf8');
  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const d of diagnostics)
    console.error(`${d.severity === DiagnosticSeverity.Error ? 'error' : 'note'}: ${d.code}: ` +
                  `${d.message} at ${JSON.stringify(d.path)}`);
  if (errors.length || !document) fail(`${file}: ${errors.length} error(s), not a valid AsyncAPI document`);
  if (document.version() !== '3.0.0') fail(`${file}: asyncapi ${document.version()}, expected 3.0.0`);

  const channels = document.channels().all();
  if (channels.length === 0) fail(`${file}: no channels`);
  const sends = new Set(), receives = new Set();
  for (const op of document.operations().all())
    for (const ch of op.channels().all())
      (op.isSend() ? sends : receives).add(ch.address());
  for (const ch of channels) {
    const addr = ch.address();
    const amqp = ch.bindings().get('amqp');
    const ex = amqp && amqp.value().exchange;
    if (!amqp || amqp.value().is !== 'routingKey' || !ex || ex.type !== 'topic' || ex.durable !== true)
      fail(`channel '${addr}': no AMQP binding to a durable topic exchange`);
    if (!sends.has(addr)) fail(`channel '${addr}': no send operation (publisher)`);
    if (!receives.has(addr)) fail(`channel '${addr}': no receive operation (consumer)`);
    for (const msg of ch.messages().all()) {
      if (msg.contentType() !== 'application/cloudevents+json')
        fail(`message of '${addr}': content type ${msg.contentType()}`);
      if (!msg.hasPayload()) fail(`message of '${addr}': no payload schema`);
      if (!msg.hasCorrelationId()) fail(`message of '${addr}': no correlation id`);
    }
    // Every channel's dataschema names a schema of docs/schemas/ with the same rules.
    if (schemas) {
      const props = ch.messages().all()[0].payload().allOf()[1].properties();
      const id = props.dataschema.const();
      const file = schemas.ajv.getSchema(id);
      if (!file) fail(`channel '${addr}': no schema file with $id '${id}' in ${schemasDir}`);
      const inline = JSON.stringify(stripMeta(props.data.json()));
      if (JSON.stringify(stripMeta(file.schema)) !== inline)
        fail(`channel '${addr}': the data schema differs from the file of '${id}'`);
    }
  }
  console.log(`check_asyncapi: ${file}: AsyncAPI ${document.version()} valid, ` +
              `${channels.length} channels, ${sends.size} sent, ${receives.size} received` +
              (schemas ? `; ${schemas.ids.length} schemas in ${schemasDir} valid and matching` : ''));
}

main().catch((e) => fail(e.stack || String(e)));
