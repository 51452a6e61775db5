// A Curator 5 client driven line by line over stdin, for interop tests.
//
//   java CuratorProbe <connectString> <sessionTimeoutMs>
//
// Commands (one per line): "info", "create <path>", "quit". Answers are single
// lines: "INFO <connectionString> <remotePort|-> <sessionId hex> <connected>",
// "OK <path>" or "ERR <exception>". Every connection state change Curator
// reports is printed as "STATE <name>" when it happens. The client is built
// with Curator's defaults (EnsembleTracker on) apart from the timeouts and a
// retry policy that never gives up.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryForever;
import org.apache.zookeeper.ZooKeeper;

public final class CuratorProbe {
    private static final Pattern REMOTE = Pattern.compile("remoteserver:\\S*:(\\d+)");

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: CuratorProbe <connectString> <sessionTimeoutMs>");
            System.exit(2);
        }
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(Integer.parseInt(args[1]))
                .connectionTimeoutMs(5000)
                .retryPolicy(new RetryForever(100))
                .build();
        client.getConnectionStateListenable().addListener((c, state) -> say("STATE " + state));
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            say("ERR not connected within 30 s");
            System.exit(1);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] words = line.trim().split(" ", 2);
            try {
                switch (words[0]) {
                    case "info": {
                        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
                        Matcher m = REMOTE.matcher(String.valueOf(zk));
                        say("INFO " + client.getZookeeperClient().getCurrentConnectionString()
                                + " " + (m.find() ? m.group(1) : "-")
                                + " " + Long.toHexString(zk.getSessionId())
                                + " " + client.getZookeeperClient().isConnected());
                        break;
                    }
                    case "create":
                        say("OK " + client.create().creatingParentsIfNeeded().forPath(words[1]));
                        break;
                    case "quit":
                        client.close();
                        return;
                    default:
                        say("ERR unknown command " + words[0]);
                }
            } catch (Exception e) {
                say("ERR " + e);
            }
        }
        client.close();
    }
}
