// Starts one OpenSearch node through codelibs' OpenSearchRunner, on exact ports, loopback only.
// The runner's own main() refuses HTTP ports above 9299 (maxHttpPort) and swallows the reason behind exit code 1;
// we lift that limit, pin the transport port, keep discovery single-node (other runs on this machine probe the
// default transport range) and print any failure. Run in source-file mode: java -cp 'lib/*' OpenSearchLauncher.java
// Usage: OpenSearchLauncher <httpPort> <transportPort> <basePath> <clusterName>

import org.codelibs.opensearch.runner.OpenSearchRunner;

public class OpenSearchLauncher {
    public static void main(String[] args) throws Exception {
        final int httpPort = Integer.parseInt(args[0]);
        final int transportPort = Integer.parseInt(args[1]);
        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1);
        runner.onBuild((number, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", String.valueOf(httpPort));
            settings.put("transport.port", String.valueOf(transportPort));
            settings.put("discovery.type", "single-node");
            settings.putList("discovery.seed_hosts");
            settings.put("action.destructive_requires_name", "false");
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        try {
            runner.build("-numOfNode", "1", "-baseHttpPort", String.valueOf(httpPort - 1),
                    "-basePath", args[2], "-clusterName", args[3], "-printOnFailure");
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("OpenSearch node ready on 127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
