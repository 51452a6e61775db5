// Apache Curator's recipes, driven line by line over stdin, as the reference
// that corral's recipes must interoperate with on the same paths.
//
//   java CuratorOracle <connectString>
//
// Requests are "<rid> <verb> <args...>"; each is answered, in its own time, by
// "<rid> OK [result]" or "<rid> ERR <exception>". Requests naming a handle run
// in order on that handle's own thread (Curator's locks belong to the thread
// that took them); other handles keep going meanwhile, so one handle may block
// in an acquisition while another releases. Unprompted news is printed as
// "EVENT <handle> <what>".
//
// "ns <namespace>" chooses the namespace (a chroot without its leading slash)
// that later handles and node commands use; handles keep theirs.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryForever;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

public final class CuratorOracle {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** One recipe instance and the thread its requests run on. */
    private static final class Handle {
        final ExecutorService thread = Executors.newSingleThreadExecutor();
        final CuratorFramework client;
        Object recipe;
        /** The semaphore lease held, if any. */
        Lease lease;
        /** Opened by "yield": the LeaderSelector's leadership callback returns. */
        volatile CountDownLatch yield = new CountDownLatch(1);
        /** A discovery handle's live ServiceCaches, by service name. */
        final Map<String, ServiceCache<Map<String, Object>>> serviceCaches = new ConcurrentHashMap<>();

        Handle(CuratorFramework client) {
            this.client = client;
        }
    }

    private final CuratorFramework root;
    private volatile CuratorFramework current;
    private final Map<String, Handle> handles = new ConcurrentHashMap<>();
    private final ExecutorService general = Executors.newCachedThreadPool();

    private CuratorOracle(CuratorFramework root) {
        this.root = root;
        this.current = root;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: CuratorOracle <connectString>");
            System.exit(2);
        }
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new RetryForever(100))
                .ensembleTracker(false)
                .build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            say("ERR not connected within 30 s");
            System.exit(1);
        }
        say("READY");
        new CuratorOracle(client).serve();
    }

    private void serve() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] w = line.trim().split(" ", 3);
            if (w.length < 2) {
                say("ERR malformed request " + line);
                continue;
            }
            String rid = w[0];
            String verb = w[1];
            String rest = w.length > 2 ? w[2] : "";
            if (verb.equals("quit")) {
                break;
            }
            dispatch(rid, verb, rest);
        }
        for (Handle h : handles.values()) {
            h.thread.shutdownNow();
        }
        general.shutdownNow();
        root.close();
        System.exit(0);
    }

    /**
     * Runs a request: a handle's acquisitions, releases and close in order on
     * its thread, anything else at once on a thread of its own.
     */
    private void dispatch(String rid, String verb, String rest) {
        String[] a = rest.isEmpty() ? new String[0] : rest.split(" ");
        if (verb.equals("ns")) {
            current = a.length == 0 ? root : root.usingNamespace(a[0]);
            say(rid + " OK");
            return;
        }
        CuratorFramework client = current;
        Handle h = null;
        ExecutorService on = general;
        if (HANDLE_MAKERS.contains(verb)) {
            h = new Handle(client);
            if (handles.putIfAbsent(a[0], h) != null) {
                say(rid + " ERR handle " + a[0] + " exists");
                return;
            }
            on = h.thread;
        } else if (!NODE_VERBS.contains(verb)) {
            h = a.length == 0 ? null : handles.get(a[0]);
            if (h == null) {
                say(rid + " ERR no such handle in: " + verb + " " + rest);
                return;
            }
            if (IN_ORDER.contains(verb)) {
                on = h.thread;
            }
        }
        Handle handle = h;
        on.execute(() -> {
            try {
                String result = run(verb, a, rest, handle, client);
                say(rid + " OK" + (result.isEmpty() ? "" : " " + result));
            } catch (Throwable e) {
                say(rid + " ERR " + e.toString().replace('\n', ' '));
            }
        });
    }

    /** Verbs that make a handle (its name is their first argument). */
    private static final Set<String> HANDLE_MAKERS = Set.of("mutex", "readlock", "writelock", "semaphore",
            "latch", "selector", "sharedcount", "discovery", "cache");
    /** Verbs on plain nodes, without a handle. */
    private static final Set<String> NODE_VERBS = Set.of("create", "set", "delete", "get", "children");
    /** Handle verbs that run in order on the handle's thread. */
    private static final Set<String> IN_ORDER = Set.of("acquire", "release", "hold", "close");

    private String run(String verb, String[] a, String rest, Handle h, CuratorFramework client) throws Exception {
        switch (verb) {
            // ---- nodes ----
            case "create":
                return client.create().creatingParentContainersIfNeeded().forPath(a[0], dataOf(rest, 1));
            case "set":
                client.setData().forPath(a[0], dataOf(rest, 1));
                return "";
            case "delete":
                client.delete().forPath(a[0]);
                return "";
            case "get":
                return JSON.writeValueAsString(new String(client.getData().forPath(a[0]), StandardCharsets.UTF_8));
            case "children":
                return JSON.writeValueAsString(client.getChildren().forPath(a[0]));
            // ---- locks and semaphores ----
            case "mutex":
                h.recipe = new InterProcessMutex(client, a[1]);
                return "";
            case "readlock":
                h.recipe = new InterProcessReadWriteLock(client, a[1]).readLock();
                return "";
            case "writelock":
                h.recipe = new InterProcessReadWriteLock(client, a[1]).writeLock();
                return "";
            case "semaphore":
                h.recipe = new InterProcessSemaphoreV2(client, a[1], Integer.parseInt(a[2]));
                return "";
            case "acquire":
                return String.valueOf(acquire(h, Long.parseLong(a[1])));
            case "release":
                release(h);
                return "";
            case "hold":
                hold(h, a[1], a[2], Integer.parseInt(a[3]), Long.parseLong(a[4]));
                return "";
            case "participants":
                return participants(h);
            // ---- leaders ----
            case "latch": {
                LeaderLatch latch = new LeaderLatch(client, a[1], a[2]);
                latch.addListener(new LeaderLatchListener() {
                    public void isLeader() {
                        say("EVENT " + a[0] + " leader");
                    }

                    public void notLeader() {
                        say("EVENT " + a[0] + " notleader");
                    }
                });
                latch.start();
                h.recipe = latch;
                return "";
            }
            case "selector": {
                LeaderSelector selector = new LeaderSelector(client, a[1], new LeaderSelectorListenerAdapter() {
                    public void takeLeadership(CuratorFramework c) throws Exception {
                        say("EVENT " + a[0] + " leader");
                        try {
                            h.yield.await();
                        } finally {
                            h.yield = new CountDownLatch(1);
                            say("EVENT " + a[0] + " notleader");
                        }
                    }
                });
                selector.setId(a[2]);
                selector.start();
                h.recipe = selector;
                return "";
            }
            case "yield":
                h.yield.countDown();
                return "";
            case "isleader":
                return String.valueOf(h.recipe instanceof LeaderLatch
                        ? ((LeaderLatch) h.recipe).hasLeadership()
                        : ((LeaderSelector) h.recipe).hasLeadership());
            case "await":
                return String.valueOf(((LeaderLatch) h.recipe).await(Long.parseLong(a[1]), TimeUnit.MILLISECONDS));
            case "leader":
                return leader(h);
            // ---- shared count ----
            case "sharedcount": {
                SharedCount count = new SharedCount(client, a[1], Integer.parseInt(a[2]));
                count.start();
                h.recipe = count;
                return "";
            }
            case "count":
                return String.valueOf(((SharedCount) h.recipe).getCount());
            case "increment":
                increment((SharedCount) h.recipe, Integer.parseInt(a[1]));
                return "";
            // ---- service discovery ----
            case "discovery": {
                @SuppressWarnings("unchecked")
                ServiceDiscovery<Map<String, Object>> d = ServiceDiscoveryBuilder
                        .builder((Class<Map<String, Object>>) (Class<?>) Map.class)
                        .client(client).basePath(a[1]).build();
                d.start();
                h.recipe = d;
                return "";
            }
            case "register":
                discovery(h).registerService(instance(a));
                return "";
            case "unregister":
                discovery(h).unregisterService(discovery(h).queryForInstance(a[1], a[2]));
                return "";
            case "instances":
                return JSON.writeValueAsString(describe(discovery(h).queryForInstances(a[1])));
            case "cached":
                return JSON.writeValueAsString(describe(serviceCache(h, a[1]).getInstances()));
            // ---- caches ----
            case "cache": {
                CuratorCache cache = CuratorCache.build(client, a[1]);
                CountDownLatch loaded = new CountDownLatch(1);
                cache.listenable().addListener(new org.apache.curator.framework.recipes.cache.CuratorCacheListener() {
                    public void event(Type type, ChildData before, ChildData after) {
                        ChildData d = after != null ? after : before;
                        say("EVENT " + a[0] + " " + type + " " + d.getPath());
                    }

                    public void initialized() {
                        loaded.countDown();
                    }
                });
                cache.start();
                if (!loaded.await(20, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("CuratorCache not initialized within 20 s");
                }
                h.recipe = cache;
                return "";
            }
            case "cacheget": {
                Optional<ChildData> d = ((CuratorCache) h.recipe).get(a[1]);
                return JSON.writeValueAsString(d.map(c -> new String(c.getData(), StandardCharsets.UTF_8)).orElse(null));
            }
            case "close":
                close(h);
                handles.remove(a[0]);
                h.thread.shutdown();
                return "";
            default:
                throw new IllegalArgumentException("unknown verb " + verb);
        }
    }

    /** The text after the first `skip` words of `rest`, as bytes. */
    private static byte[] dataOf(String rest, int skip) {
        String[] parts = rest.split(" ", skip + 1);
        return (parts.length > skip ? parts[skip] : "").getBytes(StandardCharsets.UTF_8);
    }

    /** Takes the lock or a lease: waits at most `ms` (forever when negative). */
    private static boolean acquire(Handle h, long ms) throws Exception {
        if (h.recipe instanceof InterProcessSemaphoreV2) {
            InterProcessSemaphoreV2 s = (InterProcessSemaphoreV2) h.recipe;
            h.lease = ms < 0 ? s.acquire() : s.acquire(ms, TimeUnit.MILLISECONDS);
            return h.lease != null;
        }
        InterProcessLock lock = (InterProcessLock) h.recipe;
        if (ms < 0) {
            lock.acquire();
            return true;
        }
        return lock.acquire(ms, TimeUnit.MILLISECONDS);
    }

    private static void release(Handle h) throws Exception {
        if (h.recipe instanceof InterProcessSemaphoreV2) {
            Lease lease = h.lease;
            h.lease = null;
            if (lease == null) {
                throw new IllegalStateException("no lease held");
            }
            lease.close();
            return;
        }
        ((InterProcessLock) h.recipe).release();
    }

    /**
     * `rounds` times: acquire, append "<tag> begin" to the log node, hold for
     * `holdMs`, append "<tag> end", release. The log is shared with the other
     * side, which appends the same way: its order is the order of the holds.
     */
    private static void hold(Handle h, String log, String tag, int rounds, long holdMs) throws Exception {
        for (int i = 0; i < rounds; i++) {
            acquire(h, -1);
            try {
                append(h.client, log, tag + " begin");
                Thread.sleep(holdMs);
                append(h.client, log, tag + " end");
            } finally {
                release(h);
            }
        }
    }

    /** Appends a line to the node at `path` with a versioned write, again on conflict. */
    static void append(CuratorFramework client, String path, String line) throws Exception {
        while (true) {
            Stat stat = new Stat();
            byte[] old = client.getData().storingStatIn(stat).forPath(path);
            byte[] now = (new String(old, StandardCharsets.UTF_8) + line + "\n").getBytes(StandardCharsets.UTF_8);
            try {
                client.setData().withVersion(stat.getVersion()).forPath(path, now);
                return;
            } catch (KeeperException.BadVersionException e) {
                // Someone appended meanwhile: read again.
            }
        }
    }

    private static String participants(Handle h) throws Exception {
        Collection<String> nodes;
        if (h.recipe instanceof InterProcessSemaphoreV2) {
            nodes = ((InterProcessSemaphoreV2) h.recipe).getParticipantNodes();
        } else if (h.recipe instanceof InterProcessMutex) {
            nodes = ((InterProcessMutex) h.recipe).getParticipantNodes();
        } else {
            Collection<Participant> ps = h.recipe instanceof LeaderLatch
                    ? ((LeaderLatch) h.recipe).getParticipants()
                    : ((LeaderSelector) h.recipe).getParticipants();
            List<String> ids = new ArrayList<>();
            for (Participant p : ps) {
                ids.add(p.getId());
            }
            return JSON.writeValueAsString(ids);
        }
        return JSON.writeValueAsString(new ArrayList<>(nodes));
    }

    /** The leader's id as Curator sees it ("" when there is none). */
    private static String leader(Handle h) throws Exception {
        Participant p = h.recipe instanceof LeaderLatch
                ? ((LeaderLatch) h.recipe).getLeader()
                : ((LeaderSelector) h.recipe).getLeader();
        return JSON.writeValueAsString(p.isLeader() ? p.getId() : "");
    }

    /** `n` increments, each a compare-and-set on the version read (SharedCount's rule). */
    private static void increment(SharedCount count, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            while (true) {
                VersionedValue<Integer> v = count.getVersionedValue();
                if (count.trySetCount(v, v.getValue() + 1)) {
                    break;
                }
            }
        }
    }

    /** The handle's live ServiceCache of service `name`, started on first use. */
    private static synchronized ServiceCache<Map<String, Object>> serviceCache(Handle h, String name)
            throws Exception {
        ServiceCache<Map<String, Object>> cache = h.serviceCaches.get(name);
        if (cache == null) {
            cache = discovery(h).serviceCacheBuilder().name(name).build();
            cache.start();
            h.serviceCaches.put(name, cache);
        }
        return cache;
    }

    @SuppressWarnings("unchecked")
    private static ServiceDiscovery<Map<String, Object>> discovery(Handle h) {
        return (ServiceDiscovery<Map<String, Object>>) h.recipe;
    }

    /** "register <h> <name> <id> <address> <port> <payload JSON>". */
    @SuppressWarnings("unchecked")
    private static ServiceInstance<Map<String, Object>> instance(String[] a) throws Exception {
        return ServiceInstance.<Map<String, Object>>builder()
                .name(a[1]).id(a[2]).address(a[3]).port(Integer.parseInt(a[4]))
                .payload(JSON.readValue(a[5], Map.class))
                .build();
    }

    /** The instances' fields as Curator's deserialized objects hold them. */
    private static List<Map<String, Object>> describe(Collection<ServiceInstance<Map<String, Object>>> list) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ServiceInstance<Map<String, Object>> i : list) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", i.getName());
            m.put("id", i.getId());
            m.put("address", i.getAddress());
            m.put("port", i.getPort());
            m.put("sslPort", i.getSslPort());
            m.put("payload", i.getPayload());
            m.put("serviceType", String.valueOf(i.getServiceType()));
            m.put("enabled", i.isEnabled());
            out.add(m);
        }
        return out;
    }

    private static void close(Handle h) throws Exception {
        Object r = h.recipe;
        if (r instanceof LeaderLatch) {
            ((LeaderLatch) r).close();
        } else if (r instanceof LeaderSelector) {
            h.yield.countDown();
            ((LeaderSelector) r).close();
        } else if (r instanceof SharedCount) {
            ((SharedCount) r).close();
        } else if (r instanceof ServiceDiscovery) {
            for (ServiceCache<Map<String, Object>> cache : h.serviceCaches.values()) {
                cache.close();
            }
            ((ServiceDiscovery<?>) r).close();
        } else if (r instanceof CuratorCache) {
            ((CuratorCache) r).close();
        } else if (h.lease != null) {
            h.lease.close();
            h.lease = null;
        }
    }
}
