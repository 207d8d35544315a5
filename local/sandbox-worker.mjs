// Inside a function sandbox (a worker thread with its own module graph and `process.env`): the
// Lambda Node.js runtime's part. Installs the `awslambda` streaming global, imports the function's
// bundle once (the cold start), then runs the invocations the parent sends (local/sandbox.ts, which
// also defines the messages), with a Context whose deadline is the function's timeout. A streaming
// handler writes to a relay stream whose bytes go to the parent (the Function URL). As on Lambda,
// nothing tells the handler that the client went away: the relay never closes on its own, and the
// invocation runs until it returns or times out
// (https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/145).
// Plain JavaScript: a sandbox loads no TypeScript loader, so its cold start is the bundle's own.
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const init = workerData;
const post = (message) => parentPort.postMessage(message);
const serialize = (error) =>
  error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: 'Error', message: String(error) };

/** The response stream a streaming handler writes to: metadata and bytes relayed to the parent. */
class RelayStream extends Writable {
  constructor(id) {
    super({ decodeStrings: true });
    this.id = id;
    this.started = false;
  }
  setMetadata(metadata) {
    if (this.started) throw new Error('HttpResponseStream.from() must be called before the first write');
    post({ type: 'meta', id: this.id, metadata });
  }
  setContentType(contentType) {
    post({ type: 'meta', id: this.id, metadata: { headers: { 'content-type': contentType } } });
  }
  _write(chunk, _encoding, callback) {
    this.started = true;
    post({ type: 'chunk', id: this.id, data: new Uint8Array(chunk) });
    callback();
  }
  _final(callback) {
    post({ type: 'end', id: this.id });
    callback();
  }
}

// The AWS SDK creates `globalThis.awslambda = {}` for its own use: merge into it.
globalThis.awslambda ??= {};
Object.assign(globalThis.awslambda, {
  streamifyResponse(handler) {
    Object.defineProperty(handler, STREAMING, { value: 'response', enumerable: false });
    return handler;
  },
  HttpResponseStream: {
    from(stream, metadata) {
      if (stream instanceof RelayStream) stream.setMetadata(metadata);
      return stream;
    },
  },
});

function context(message) {
  const notSupported = () => {
    throw new Error('Callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: init.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${init.region}:${init.account}:function:${init.functionName}`,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}

async function invoke(handler, streaming, message) {
  if (message.streaming !== streaming) throw new Error(`${init.functionName}: ${streaming ? 'a streaming' : 'not a streaming'} handler`);
  if (streaming) {
    const stream = new RelayStream(message.id);
    await handler(message.event, stream, context(message));
    if (!stream.writableEnded) stream.end();
    return undefined;
  }
  const value = await handler(message.event, context(message));
  // What Lambda returns is JSON: the same serialization here.
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

async function main() {
  let handler;
  try {
    const module = await import(pathToFileURL(init.entry).href);
    handler = module[init.exportName];
    if (typeof handler !== 'function') throw new Error(`${init.entry} exports no function '${init.exportName}'`);
  } catch (error) {
    post({ type: 'init-error', error: serialize(error) });
    return;
  }
  const streaming = handler[STREAMING] === 'response';
  parentPort.on('message', (message) => {
    if (message.type !== 'invoke') return;
    invoke(handler, streaming, message).then(
      (value) => post({ type: 'result', id: message.id, value }),
      (error) => post({ type: 'error', id: message.id, error: serialize(error) }),
    );
  });
  post({ type: 'ready' });
}

void main();
