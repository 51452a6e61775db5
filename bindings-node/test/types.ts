// Compiled (never run) by test/run.sh with tsc --strict: the README's usage
// against the committed index.d.ts, so the declarations stay usable.
import { AbortError, Client, CreateMode, EmbeddedServer, Stat, TestCluster, WatchedEvent, ZooKeeperError, errors, expireSession } from 'corral'

export async function usage(): Promise<void> {
  const server: EmbeddedServer = await EmbeddedServer.start({ options: { tickTime: '200' } })
  const client = new Client(`${server.connectString}/app`, { sessionTimeout: 10_000 })
  client.on('state', (s) => {
    const known: 'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed' | 'readOnly' = s
    void known
  })
  await client.connect()
  const path: string = await client.create('/jobs/job-', Buffer.from('x'), { mode: CreateMode.EPHEMERAL_SEQUENTIAL, makePath: true })
  const { data, stat } = await client.getData(path)
  const bytes: Buffer = data
  const zxid: bigint = stat.mzxid
  const next: Stat = await client.setData('/jobs', Buffer.from('v2'), { version: stat.version })
  const missing: Stat | null = await client.exists('/nope')
  const { watch } = await client.exists('/nope', { watch: true })
  const fired: WatchedEvent = await watch
  const ac = new AbortController()
  for await (const ev of client.watch('/config', { recursive: true, signal: ac.signal })) {
    const t: string = ev.type
    void t
  }
  await client.transaction().create('/a', null).setData('/a', Buffer.from('1'), { version: 0 }).check('/a').remove('/a').commit({ signal: ac.signal })
  const lock = client.lock('/locks/db')
  const token: bigint | null = await lock.acquire({ signal: ac.signal })
  await lock.release()
  try {
    await client.getData('/nope')
  } catch (err) {
    if (err instanceof errors.NoNodeError) {
      const z: ZooKeeperError = err
      const code: string = z.code
      const rc: number = z.rc
      void [code, rc]
    } else if (err instanceof AbortError) {
      throw err
    }
  }
  const fresh: bigint = await expireSession(client, server.connectString)
  await client.close()
  await server.close()
  const cluster = await TestCluster.start({ size: 3 })
  const leader: number = await cluster.leader()
  await cluster.kill(leader)
  await cluster.restart(leader)
  await cluster.close()
  void [bytes, zxid, next, missing, fired, token, fresh]
}
