// node-redis (Debian's node-redis package) across two reborn-proxies: a
// subscriber on the first gets what is published through the second, on a
// channel and through a pattern, and PUBLISH counts it once.
const { createClient } = require('redis');
const assert = require('assert');

async function main() {
  const [subUrl, pubUrl] = process.argv.slice(2);
  const sub = createClient({ url: subUrl });
  const pub = createClient({ url: pubUrl });
  for (const c of [sub, pub]) {
    c.on('error', (err) => { console.error('client error', err); });
    await c.connect();
  }
  const got = [];
  let wake = null;
  const arrived = () => new Promise((resolve) => {
    if (got.length >= 4) resolve(); else wake = resolve;
  });
  const note = (what) => {
    got.push(what);
    if (got.length >= 4 && wake) wake();
  };
  await sub.subscribe('node:news', (msg, ch) => note(`${ch}=${msg}`));
  await sub.pSubscribe('node:n*', (msg, ch) => note(`p:${ch}=${msg}`));
  assert.strictEqual(await pub.publish('node:news', 'one'), 2);
  assert.strictEqual(await pub.publish('node:nope', 'two'), 1);
  assert.strictEqual(await pub.publish('node:other', 'three'), 0);
  assert.strictEqual(await pub.publish('node:news', 'four'), 2);
  await Promise.race([arrived(),
                      new Promise((r) => setTimeout(r, 5000))]);
  // Channel subscribers first, then patterns, per message.
  assert.deepStrictEqual(got.slice(0, 4), ['node:news=one', 'p:node:news=one',
                                           'p:node:nope=two',
                                           'node:news=four']);
  await sub.unsubscribe('node:news');
  await sub.pUnsubscribe('node:n*');
  assert.strictEqual(await pub.publish('node:news', 'five'), 0);
  await sub.quit();
  await pub.quit();
  console.log('node pubsub ok');
}

main().catch((err) => { console.error(err); process.exit(1); });
