import { createChatApp } from '/work/main/lib/app.js';
const t0 = Date.now();
const { app } = createChatApp({ context: { 'aws:cdk:bundling-stacks': [], corsOrigins: ['http://localhost:3000'] } });
try {
  const asm = app.synth();
  console.log('ok', asm.directory, Date.now() - t0);
} catch (e) {
  console.log(String((e as Error).message).slice(0, 20000));
}
