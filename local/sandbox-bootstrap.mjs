// Entry of a function sandbox (worker thread): TypeScript support first (the handler modules are
// TypeScript, loaded from source as the tests and `npm start` always have), then the sandbox itself.
import { register } from 'tsx/esm/api';

register();
await import('./sandbox-worker.ts');
