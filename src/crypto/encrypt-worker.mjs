// The age encryption of one snapshot run, in a worker thread so that it overlaps the main
// thread's row formatting (in one thread, encryption adds about 80% to a local table's time).
// Plain JavaScript: a worker must load the same file under vitest (TypeScript sources) and
// from dist/. Protocol, in order, per file:
//   main -> worker: { type: 'begin', path }   opens `path` (must not exist), mode 0600
//   main -> worker: { type: 'chunk', data }   plaintext bytes (an ArrayBuffer, transferred)
//   worker -> main: { type: 'ack' }           a chunk was taken by the encrypter (flow control)
//   main -> worker: { type: 'end' }           plaintext complete
//   worker -> main: { type: 'done', bytes }   ciphertext written and fsynced
//   worker -> main: { type: 'error', message } and the worker exits
// The plaintext exists only in memory, never in a file.
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { Encrypter } from 'age-encryption';

const encrypter = new Encrypter();
for (const recipient of workerData.recipients) encrypter.addRecipient(recipient);

let queue = [];
let ended = false;
let wake = () => {};

parentPort.on('message', (message) => {
  switch (message.type) {
    case 'begin':
      queue = [];
      ended = false;
      encryptTo(message.path).catch((error) => {
        parentPort.postMessage({
          type: 'error',
          message: error instanceof Error ? error.message : String(error),
        });
        process.exit(1);
      });
      break;
    case 'chunk':
      queue.push(new Uint8Array(message.data));
      wake();
      break;
    case 'end':
      ended = true;
      wake();
      break;
  }
});

async function encryptTo(path) {
  const plaintext = new ReadableStream(
    {
      async pull(controller) {
        while (queue.length === 0 && !ended) await new Promise((resolve) => (wake = resolve));
        const chunk = queue.shift();
        if (chunk === undefined) {
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        parentPort.postMessage({ type: 'ack' });
      },
    },
    { highWaterMark: 0 },
  );
  const ciphertext = await encrypter.encrypt(plaintext);
  const handle = await open(path, 'wx', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of ciphertext) {
      bytes += chunk.length;
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  parentPort.postMessage({ type: 'done', bytes });
}
