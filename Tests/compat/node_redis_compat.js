// node-redis (Debian's node-redis) against the gateway: node node_redis_compat.js
'use strict';
const { execFileSync } = require('child_process');
const { createClient, WatchError } = require('redis');

const env = process.env;
const port = Number(env.QS_PORT);
const keys = Array.from({ length: 100 }, (_, i) => (i % 3 ? `user:${(i % 9) + 1}` : 'listing:10'));

function check(name, condition, detail = '') {
  if (!condition) {
    console.log(`FAIL ${name} ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

function updateRow(sql) {
  execFileSync(env.QS_PSQL, [env.QS_PG_URL, '-qAtc', sql]);
}

async function waitUntil(read, expected) {
  const deadline = Date.now() + 10000;
  let value = null;
  while (Date.now() < deadline) {
    value = await read();
    if (value !== null && value.includes(expected)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return value || '';
}

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error;
  }
}

async function main() {
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  client.on('error', () => {});
  await client.connect();
  check('connect', (await client.ping()) === 'PONG');
  check('get', (await client.get('user:1')).includes('alice'));
  const values = await client.mGet(['user:1', 'listing:10', 'user:999999']);
  check('mget', values[0].includes('alice') && values[1].includes('Lamp') && values[2] === null, JSON.stringify(values));
  check('exists', (await client.exists(['user:1', 'user:999999'])) === 1);
  const ttl = await client.ttl('user:1');
  check('ttl', ttl > 0, String(ttl));

  const singles = {};
  for (const key of new Set(keys)) singles[key] = await client.get(key);
  const piped = await keys.reduce((multi, key) => multi.get(key), client.multi()).execAsPipeline();
  check('pipeline of 100 GETs', JSON.stringify(piped) === JSON.stringify(keys.map((k) => singles[k])));
  const transaction = await client.multi().get('user:1').get('listing:10').exec();  // MULTI … EXEC
  check('default pipeline (multi)', transaction[0].includes('alice') && transaction[1].includes('Lamp'));

  const watched = await client.executeIsolated(async (isolated) => {
    await isolated.watch('user:7');
    const before = await isolated.get('user:7');
    const replies = await isolated.multi().get('user:7').exec();
    return replies[0] === before;
  });
  check('watch multi exec', watched);
  const aborted = await errorOf(client.executeIsolated(async (isolated) => {
    await isolated.watch('user:6');
    updateRow("UPDATE users SET username = 'frank-node' WHERE id = 6");
    check('watched row read fresh', (await waitUntil(() => client.get('user:6'), 'frank-node')).includes('frank-node'));
    return isolated.multi().get('user:6').exec();
  }));
  check('watch aborts after invalidation', aborted instanceof WatchError, String(aborted));

  for (const key of new Set(keys)) singles[key] = await client.get(key);  // user:6 changed above
  const concurrent = await Promise.all(keys.slice(0, 20).map((key) => client.get(key)));
  check('20 concurrent', JSON.stringify(concurrent) === JSON.stringify(keys.slice(0, 20).map((k) => singles[k])));

  const withPassword = createClient({ socket: { host: '127.0.0.1', port }, username: 'default', password: 'unneeded' });
  await withPassword.connect();
  check('password the gateway does not need', (await withPassword.ping()) === 'PONG');
  await withPassword.quit();
  const protectedClient = createClient({ socket: { host: '127.0.0.1', port: Number(env.QS_AUTH_PORT) }, password: env.QS_AUTH_PASSWORD });
  await protectedClient.connect();
  check('password required', (await protectedClient.ping()) === 'PONG');
  await protectedClient.quit();
  // A wrong password in the options makes node-redis reconnect forever; sent as a command,
  // the refusal surfaces as an error.
  const wrong = createClient({ socket: { host: '127.0.0.1', port: Number(env.QS_AUTH_PORT) } });
  wrong.on('error', () => {});
  await wrong.connect();
  const wrongError = await errorOf(wrong.sendCommand(['AUTH', 'wrong']));
  check('wrong password surfaced', wrongError !== null && String(wrongError).includes('invalid username-password pair'), String(wrongError));
  await wrong.disconnect();

  const write = await errorOf(client.set('user:1', 'x'));
  check('write refused', write !== null && String(write.message).startsWith('READONLY'), String(write));
  const unknown = await errorOf(client.sendCommand(['NOSUCHCOMMAND', 'a']));
  check('unknown command surfaced', unknown !== null && String(unknown.message).includes('unknown command'), String(unknown));

  updateRow("UPDATE users SET username = 'erin-node' WHERE id = 5");
  check('row updated in PostgreSQL read fresh', (await waitUntil(() => client.get('user:5'), 'erin-node')).includes('erin-node'));
  await client.quit();
  console.log('ALL OK');
}

main().catch((error) => {
  console.log(`FAIL exception ${error && error.stack}`);
  process.exit(1);
});
