// node-redis (Debian's node-redis package) with its default settings against
// reborn-proxy: connect, the usual commands, a transaction, Pub/Sub.
const { createClient } = require('redis');
const assert = require('assert');

async function main() {
  const url = process.argv[2];
  const client = createClient({ url });
  client.on('error', (err) => { console.error('client error', err); });
  await client.connect();
  assert.strictEqual(await client.ping(), 'PONG');
  assert.strictEqual(await client.set('node:a', '1'), 'OK');
  assert.strictEqual(await client.get('node:a'), '1');
  assert.strictEqual(await client.incr('node:a'), 2);
  await client.mSet({ 'node:x': 'x', 'node:y': 'y', 'node:z': 'z' });
  assert.deepStrictEqual(await client.mGet(['node:x', 'node:nope', 'node:z']),
                         ['x', null, 'z']);
  await client.hSet('node:h', { f1: 'v1', f2: 'v2' });
  assert.deepStrictEqual({ ...(await client.hGetAll('node:h')) },
                         { f1: 'v1', f2: 'v2' });
  await client.zAdd('node:zs', [{ score: 1.5, value: 'a' }]);
  assert.strictEqual(await client.zScore('node:zs', 'a'), 1.5);
  const replies = await client.multi()
      .set('{node}t1', 'v').get('{node}t1').exec();
  assert.deepStrictEqual(replies, ['OK', 'v']);
  assert.ok((await client.dbSize()) >= 6);
  const seen = [];
  for await (const key of client.scanIterator({ MATCH: 'node:*', COUNT: 2 })) {
    seen.push(key);
  }
  assert.strictEqual(new Set(seen).size, 6);
  assert.ok((await client.info('keyspace')).includes('# Keyspace'));

  const sub = client.duplicate();
  await sub.connect();
  const got = new Promise((resolve) => sub.subscribe('node:ch', resolve));
  await new Promise((r) => setTimeout(r, 100));
  await client.publish('node:ch', 'hello');
  assert.strictEqual(await got, 'hello');
  await sub.quit();
  await client.quit();
  console.log('node-redis ok');
}

main().catch((err) => { console.error(err); process.exit(1); });
