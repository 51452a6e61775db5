const { Client, EmbeddedServer, CreateMode, errors } = require('corral');

async function main() {
  const server = await EmbeddedServer.start(); // in-process, no JVM
  const client = new Client(server.connectString, { sessionTimeout: 10_000 });
  client.on('state', (state) => console.log('state:', state));
  await client.connect();

  await client.mkdirp('/jobs');
  const job = await client.create('/jobs/job-', Buffer.from('x'), { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
  const { data, stat } = await client.getData(job);
  await client.setData(job, Buffer.from(`${data}2`), { version: stat.version });
  console.log(job, (await client.getData(job)).data.toString()); // /jobs/job-0000000000 x2

  try {
    await client.getData('/nope');
  } catch (err) {
    if (!(err instanceof errors.NoNodeError)) throw err;
    console.log(err.code, err.rc, err.path); // NO_NODE -101 /nope
  }

  const lock = client.lock('/locks/db');
  const token = await lock.acquire(); // a fencing token (bigint)
  console.log(`locked with token ${token}`);
  await lock.release();

  await client.close();
  await server.close();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
