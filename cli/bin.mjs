#!/usr/bin/env node
// Entry for `heston-lab` / `npm run cli`: runs the TypeScript CLI through tsx's loader, so the CLI
// executes exactly the same src/core modules as the page and the workers.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
