// otlp_receiver.js - a stand-in OpenTelemetry collector for e2e.otlp: takes
// OTLP/HTTP JSON export requests (POST /v1/traces) and decodes each with the
// protobuf definitions of @opentelemetry/otlp-transformer (the generated
// ExportTraceServiceRequest of the official proto files), not with our code.
// (verify() is not used: it checks message objects, where 64-bit integers are
// numbers, while JSON sends them as strings.)
//
// The OTLP JSON mapping is the protobuf JSON mapping with one deviation:
// trace and span ids are hex, not base64. This applies that deviation, checks
// builds the message with the generated fromObject(), sends it through the protobuf wire format and back, and
// checks that every field of the request survived: a misspelt or misplaced
// field (dropped by fromObject) or a wrong type fails the request with 400.
//
// Usage: node otlp_receiver.js <port-file> <spans-file>
// Writes its port into <port-file> once listening, then one JSON line per
// decoded span into <spans-file>: {service, traceId, spanId, parentSpanId,
// name, kind, start, end, status, attributes: {key: value}}.
'use strict';

const fs = require('fs');
const http = require('http');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');

const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const Response = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
const [portFile, spansFile] = process.argv.slice(2);
if (!portFile || !spansFile) {
  console.error('usage: otlp_receiver.js <port-file> <spans-file>');
  process.exit(2);
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

// The OTLP JSON deviation: hex ids become bytes (as base64, protobuf JSON's bytes).
function hexIdsToBase64(value, key) {
  if (Array.isArray(value)) return value.map((v) => hexIdsToBase64(v));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = hexIdsToBase64(v, k);
    return out;
  }
  if (ID_FIELDS.has(key)) {
    if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/.test(value))
      throw new Error(`${key} '${value}' is not lowercase hex`);
    return Buffer.from(value, 'hex').toString('base64');
  }
  return value;
}

// Every field of sent must be in got with an equal value (got may hold defaults too).
function checkSurvived(sent, got, path) {
  if (Array.isArray(sent)) {
    if (!Array.isArray(got) || got.length !== sent.length)
      throw new Error(`${path}: ${sent.length} items sent, ${Array.isArray(got) ? got.length : 'none'} decoded`);
    sent.forEach((v, i) => checkSurvived(v, got[i], `${path}[${i}]`));
  } else if (sent && typeof sent === 'object') {
    for (const [k, v] of Object.entries(sent)) {
      if (!got || !(k in got)) throw new Error(`${path}.${k} is not a field of the OTLP message`);
      checkSurvived(v, got[k], `${path}.${k}`);
    }
  } else if (String(sent) !== String(got)) {
    throw new Error(`${path}: sent ${JSON.stringify(sent)}, decoded ${JSON.stringify(got)}`);
  }
}

// An AnyValue's set member (its oneof 'value' names it); 64-bit integers as numbers.
function anyValue(v) {
  const which = v.value;
  if (!which) return null;
  return which === 'intValue' ? Number(v.intValue.toString()) : v[which];
}

function hex(b) {
  return Buffer.from(b || []).toString('hex');
}

function decode(text) {
  const sent = hexIdsToBase64(JSON.parse(text));
  const msg = Request.decode(Request.encode(Request.fromObject(sent)).finish());
  const got = Request.toObject(msg, { longs: String, enums: Number, bytes: String, defaults: true, oneofs: false });
  checkSurvived(sent, got, 'request');
  const lines = [];
  for (const rs of msg.resourceSpans) {
    const service = (rs.resource.attributes.find((a) => a.key === 'service.name') || {}).value;
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        const attributes = {};
        for (const a of s.attributes) attributes[a.key] = anyValue(a.value);
        lines.push(JSON.stringify({
          service: service ? anyValue(service) : null,
          traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
          name: s.name, kind: s.kind, start: String(s.startTimeUnixNano), end: String(s.endTimeUnixNano),
          status: s.status ? s.status.code : 0, attributes,
        }));
      }
  }
  return lines;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const type = req.headers['content-type'] || '';
    try {
      if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`${req.method} ${req.url} is not POST /v1/traces`);
      if (!type.startsWith('application/json')) throw new Error(`content type '${type}' is not application/json`);
      const lines = decode(Buffer.concat(chunks).toString('utf8'));
      if (lines.length) fs.appendFileSync(spansFile, lines.join('\n') + '\n');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(Response.toObject(Response.create({}))));
    } catch (e) {
      // The test reads this line: a request we could not decode fails it.
      fs.appendFileSync(spansFile, JSON.stringify({ error: String(e.message || e) }) + '\n');
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: String(e.message || e) }));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
