#!/usr/bin/env node
// A dependency-free static server for dist/: `npm start` and the browser tests use it. It serves
// the right MIME types (application/wasm matters for streaming compilation), never caches
// index.html or the service worker, and binds to localhost only.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.npz': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.csv': 'text/csv; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Serves `dir` on 127.0.0.1:`port` (0 = any free port); resolves to { url, close }. */
export function serve(dir, port = 0, { prefix = '/' } = {}) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (!path.startsWith(prefix)) {
        res.writeHead(404).end('not found');
        return;
      }
      path = '/' + path.slice(prefix.length);
      let file = normalize(join(root, path));
      if (!file.startsWith(root)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      const info = await stat(file).catch(() => null);
      if (info?.isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const noCache = file.endsWith('index.html') || file.endsWith('sw.js');
      res.writeHead(200, { 'content-type': type, 'cache-control': noCache ? 'no-cache' : 'public, max-age=3600' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolveUrl, reject) => {
    server.once('error', (e) => {
      // A taken port is the one start-up failure a user hits (a second `npm start`, another dev
      // server): say which port and how to pick another instead of a raw EADDRINUSE stack.
      if (e && e.code === 'EADDRINUSE') reject(new Error(`port ${port} on 127.0.0.1 is already in use (another \`npm start\` or server?). Stop it, or choose another port: PORT=${port + 1} npm start`));
      else reject(e);
    });
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolveUrl({ url: `http://127.0.0.1:${actual}${prefix}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? 'dist';
  const raw = process.env.PORT ?? '4173';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a whole number from 0 to 65535, got "${raw}"`);
    process.exit(2);
  }
  try {
    const { url } = await serve(dir, port);
    console.log(`Heston Lab is being served at ${url}  (Ctrl+C to stop)`);
  } catch (e) {
    console.error(`npm start: ${e.message}`);
    process.exit(1);
  }
}
