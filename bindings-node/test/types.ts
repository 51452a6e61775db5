// Compiled (never run) by test/run.sh with tsc --strict: the README's usage
// against the committed index.d.ts, so the declarations stay usable.
import {
  AbortError, AtomicValue, CacheEvent, ChildData, Client, CreateMode, EmbeddedServer, FaultRelay, Lease, Leadership, Participant,
  ServiceInstance, Stat, TestCluster, WatchedEvent, ZooKeeperError, errors, expireSession, serviceInstance, serviceUri,
} from 'corral'

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
  const shared = client.readWriteLock('/locks/shared', { layout: 'kazoo', identifier: 'me' })
  await shared.readLock().acquire({ timeout: 1000 })
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
  await recipes(client, ac.signal)
  const relay = await FaultRelay.start(server.connectString)
  const viaRelay = new Client(relay.connectString)
  await viaRelay.connect()
  relay.drop()
  relay.block()
  relay.unblock()
  const expired: boolean = await relay.expire(viaRelay)
  relay.close()
  const fresh: bigint = await expireSession(client, server.connectString)
  await client.close()
  await server.close()
  const cluster = await TestCluster.start({ size: 3 })
  const leader: number = await cluster.leader()
  await cluster.kill(leader)
  await cluster.restart(leader)
  await cluster.close()
  void [bytes, zxid, next, missing, fired, token, fresh, expired]
}

// Every recipe, as the README shows them.
async function recipes(client: Client, signal: AbortSignal): Promise<void> {
  const rw = client.readWriteLock('/rw')
  const read: bigint | null = await rw.readLock().acquire({ timeout: 1000, signal })
  await rw.readLock().release()
  {
    const write = rw.writeLock()
    await write.acquire()
    await using _held = write
  }
  const pool = client.semaphore('/pool', 3)
  const lease: Lease | null = await pool.acquire({ timeout: 100 })
  const many: Lease[] | null = await pool.acquireMany(2, { signal })
  if (lease) {
    await using _lease = lease
  }
  const election = client.leaderElection('/leader', 'me', { autoRequeue: false })
  const led: number | null = await election.run(async (l: Leadership) => {
    const t: bigint = l.fencingToken
    const why: 'suspended' | 'sessionLost' | 'nodeDeleted' | 'cancelled' | 'closed' = await l.lost()
    void [t, why]
    return 42
  }, { signal })
  const contenders: string[] = await election.contenders()
  await using latch = client.leaderLatch('/latch', 'me')
  await latch.start()
  const leads: boolean = await latch.awaitLeadership({ timeout: 1000 })
  const who: Participant | null = await latch.leader()
  for await (const isLeader of latch.changes({ signal })) void (isLeader satisfies boolean)
  await client.barrier('/b').wait({ timeout: 10 })
  const entered: boolean = await client.doubleBarrier('/db', 2).enter({ signal })
  const queue = client.queue('/q', { receiptsPath: '/q-receipts' })
  await queue.put(Buffer.from('x'), { priority: 5 })
  const item: Buffer | null = await queue.take({ timeout: 10 })
  const lq = client.lockingQueue('/lq')
  const job: Buffer | null = await lq.get({ timeout: 10 })
  const consumed: boolean = await lq.consume()
  const change = await client.counter('/c').add(1n)
  const post: bigint = change.postValue
  const atomic: AtomicValue = await client.atomicLong('/l').compareAndSet(0n, 1n)
  const shared = client.sharedCount('/s', 1)
  await shared.start()
  const ok: boolean = await shared.trySetCount(shared.versionedValue, 2)
  for await (const n of shared.changes({ signal })) void (n satisfies number)
  const id: bigint = await client.idGenerator('/ids').nextId()
  await using cache = client.treeCache('/app', { maxDepth: 2, watchMode: 'oneShot' })
  for await (const ev of cache.events({ signal })) {
    const e: CacheEvent = ev
    const d: ChildData | undefined = e.data
    void d
  }
  const node = client.nodeCache('/config')
  for await (const d of node.changes({ signal })) void (d satisfies ChildData | null)
  const kids = client.pathChildrenCache('/workers')
  for await (const ev of kids.events({ signal })) void (ev.type satisfies string)
  for await (const names of client.childrenWatch('/workers', { signal })) void (names satisfies string[])
  for await (const v of client.dataWatch('/config', { signal })) void (v?.stat satisfies Stat | undefined)
  const party = client.party('/party', 'me', { shallow: false })
  await party.join()
  for await (const members of party.watch({ signal })) void (members satisfies string[])
  await using discovery = client.serviceDiscovery('/services')
  const me: ServiceInstance = serviceInstance('api', { port: 8080, uriSpec: '{scheme}://{address}:{port}', payload: { zone: 'a' } })
  await discovery.register(me)
  const uri: string | null = serviceUri(me)
  const found: ServiceInstance | null = await discovery.queryForInstance('api', me.id)
  for await (const list of discovery.watchInstances('api', { signal })) void (list satisfies ServiceInstance[])
  await using pnode = client.persistentNode('/me', Buffer.from('up'), { mode: CreateMode.EPHEMERAL, protected: true })
  await pnode.start()
  const created: boolean = await pnode.waitForInitialCreate({ timeout: 1000 })
  await using partitioner = await client.setPartitioner('/work', ['a', 'b'], 'me', { timeBoundary: 100, locks: true })
  const state: 'allocating' | 'acquired' | 'release' | 'failure' = await partitioner.waitForAcquire()
  const share: string[] = partitioner.partitions
  void [read, many, led, contenders, leads, who, entered, item, job, consumed, post, atomic, ok, id, uri, found, created, state, share]
}
