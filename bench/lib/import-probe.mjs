// bench cold-start scenario --> import-probe (a fresh node, plain ESM, no loader hooks) --> import(bundle)
//
// argv: <file> <mode>; mode `time` reports the import time and exits; mode `guard` first makes every
// network call throw (and records it), imports, waits a moment for module-scope promises, and lets the
// process end by itself (a module that keeps handles open shows as a timeout in the parent).
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [file, mode = 'time'] = process.argv.slice(2);
const attempts = [];

if (mode === 'guard') {
  const refuse = (what) =>
    function refused() {
      attempts.push(what);
      throw new Error(`network disabled by the bench (${what})`);
    };
  net.Socket.prototype.connect = refuse('net.Socket.connect');
  tls.connect = refuse('tls.connect');
  dns.lookup = refuse('dns.lookup');
  dns.resolve = refuse('dns.resolve');
  dns.promises.lookup = refuse('dns.promises.lookup');
  dns.promises.resolve = refuse('dns.promises.resolve');
  dgram.createSocket = refuse('dgram.createSocket');
  globalThis.fetch = refuse('fetch');
}

const start = performance.now();
let error;
let handler = 'missing';
try {
  const mod = await import(pathToFileURL(file).href);
  handler = typeof mod.handler;
} catch (err) {
  error = String((err && err.stack) || err).slice(0, 600);
}
const importMs = performance.now() - start;
if (mode === 'guard') await new Promise((resolve) => setTimeout(resolve, 300));
process.stdout.write(
  `${JSON.stringify({ importMs, sinceStartMs: performance.now(), handler, attempts, error, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
if (mode === 'time') process.exit(0);
