package oversell.streams;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

/** One SUT instance: a KafkaStreams client with one stream thread (settings: see README). */
public final class Main {
  static final String READY_LINE = "OVERSELL READY";
  /** Thread replacements allowed before the instance gives up and exits (the harness sees a crash). */
  static final int MAX_THREAD_REPLACEMENTS = 3;

  public static void main(String[] args) throws Exception {
    if (args.length == 1 && args[0].equals("--train")) {
      train();
      return;
    }
    Settings s;
    Properties props;
    boolean persistent;
    try {
      s = Settings.fromEnv();
      persistent = switch (s.setting("store", "rocksdb")) {
        case "rocksdb" -> true;
        case "memory" -> false;
        default -> throw new IllegalArgumentException("OVERSELL_SETTING_STORE must be rocksdb or memory");
      };
      props = config(s);
    } catch (IllegalArgumentException e) {
      System.err.println("kafka-streams SUT: " + e.getMessage());
      System.exit(2);
      return;
    }
    int partitions;
    try {
      partitions = stockPartitions(s, props);
    } catch (IllegalStateException e) {
      System.err.println("kafka-streams SUT: " + e.getMessage());
      System.exit(2);
      return;
    }
    Topology topology = ReservationTopology.build(s, persistent, partitions);
    KafkaStreams streams = new KafkaStreams(topology, props);

    AtomicBoolean ready = new AtomicBoolean(false);
    AtomicBoolean stopping = new AtomicBoolean(false);
    CountDownLatch failed = new CountDownLatch(1);
    AtomicInteger replacements = new AtomicInteger();

    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING && ready.compareAndSet(false, true)) {
        System.out.printf("kafka-streams SUT instance %s: RUNNING %d ms after the JVM started%n",
            s.instance, ManagementFactory.getRuntimeMXBean().getUptime());
        System.out.println(READY_LINE);
        System.out.flush();
      }
      // NOT_RUNNING without our close: shut down from elsewhere; either way the harness must see it.
      if (now == KafkaStreams.State.ERROR || (now == KafkaStreams.State.NOT_RUNNING && !stopping.get())) {
        failed.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("kafka-streams SUT: stream thread failed: " + e);
      e.printStackTrace(System.err);
      if (stopping.get() || replacements.incrementAndGet() > MAX_THREAD_REPLACEMENTS) {
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      }
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping.set(true);
      streams.close(Duration.ofSeconds(10));
      // A clean stop leaves nothing behind; after a crash (kill -9) the folder stays, so a restarted
      // instance reuses its process id (its transactional.id fences the dead one's open transaction).
      if (failed.getCount() > 0) {
        deleteQuietly(s.stateDir());
        s.stateDir().getParent().toFile().delete(); // the namespace folder, once empty
      }
    }, "oversell-shutdown"));

    System.out.printf("kafka-streams SUT instance %s (JVM up %d ms): ns=%s application.id=%s guarantee=%s"
        + " commit.interval.ms=%s store=%s state.dir=%s%n",
        s.instance, ManagementFactory.getRuntimeMXBean().getUptime(), s.ns,
        props.get(StreamsConfig.APPLICATION_ID_CONFIG), props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG),
        props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG), persistent ? "rocksdb" : "memory", s.stateDir());
    System.out.println(topology.describe());
    System.out.flush();
    streams.start();
    failed.await();
    if (!stopping.get()) {
      System.err.println("kafka-streams SUT: the client stopped (state " + streams.state() + "), exiting");
      System.exit(1);
    }
  }

  /**
   * The build's class-loading run for the AppCDS archive (-XX:ArchiveClassesAtExit): builds the
   * client and parses a few events without a broker, so instances start with those classes mapped.
   */
  static void train() throws Exception {
    Settings s = Settings.fromEnv();
    Properties props = config(s);
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("oversell-kafka-streams-train").toString());
    KafkaStreams streams = new KafkaStreams(ReservationTopology.build(s, true, 4), props);
    Events.routeOrder("o", "{\"type\":\"OrderPlaced\",\"orderId\":\"o\","
        + "\"productId\":\"p\",\"quantity\":1,\"customerId\":\"c\",\"sentAtMs\":1}");
    Events.routeOrder("o", "{bad");
    Events.routeStock("{\"type\":\"StockSet\",\"productId\":\"p\",\"quantity\":1}");
    streams.close(Duration.ofSeconds(5));
    deleteQuietly(Path.of(props.getProperty(StreamsConfig.STATE_DIR_CONFIG)));
  }

  /** The repartitioned orders must have as many partitions as the stock topic they meet. */
  static int stockPartitions(Settings s, Properties props) throws InterruptedException {
    Properties admin = new Properties();
    for (String k : props.stringPropertyNames()) {
      if (k.equals(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG) || k.startsWith("security.")
          || k.startsWith("ssl.") || k.startsWith("sasl.")) {
        admin.put(k, props.get(k));
      }
    }
    List<String> topics = List.of(s.topic("stock"), s.topic("orders"), s.topic("decisions"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (Admin a = Admin.create(admin)) {
      for (;;) {
        try {
          Map<String, TopicDescription> d = a.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
          return d.get(s.topic("stock")).partitions().size();
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("cannot describe the contract topics " + topics
                + " (the harness creates them before instances start): " + e.getMessage());
          }
          Thread.sleep(500);
        }
      }
    }
  }

  static Properties config(Settings s) throws IOException {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, s.topic("kafka-streams"));
    p.put(StreamsConfig.CLIENT_ID_CONFIG, s.topic("kafka-streams") + "-" + s.instance);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap);
    String guarantee = s.setting("guarantee", StreamsConfig.EXACTLY_ONCE_V2);
    if (!guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2) && !guarantee.equals(StreamsConfig.AT_LEAST_ONCE)) {
      throw new IllegalArgumentException("OVERSELL_SETTING_GUARANTEE must be exactly_once_v2 or at_least_once");
    }
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, s.longSetting("commit_interval_ms", 100, 1));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, (int) s.longSetting("threads", 1, 1));
    // -1: the broker's default.replication.factor (1 on one node, 3 on the embedded 3-node cluster).
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) s.longSetting("replication_factor", -1, -1));
    p.put(StreamsConfig.STATE_DIR_CONFIG, s.stateDir().toString());
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    // Crash and pause faults should move partitions within seconds, not the 45 s default.
    long session = s.longSetting("session_timeout_ms", 6000, 1000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) session);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), (int) Math.max(300, session / 3));
    // 0 (the default, explicit because the topology relies on it): a task waits for a partition that
    // it knows has data on the broker, so stock and orders are taken in timestamp order, but it does
    // not idle for partitions that are caught up.
    p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, s.longSetting("max_task_idle_ms", 0, -1));
    // Streams keeps a dynamic member in the group when it closes (it counts on a quick restart), so
    // the others would wait a session timeout for its partitions; a stopped instance here is gone.
    // (CloseOptions.leaveGroup only removes static members in 4.1.)
    p.put(StreamsConfig.mainConsumerPrefix("internal.leave.group.on.close"),
        !s.setting("leave_group_on_close", "true").equals("false"));
    // Streams' producer default linger is 100 ms; the commit flushes anyway, so do not add to it.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), (int) s.longSetting("linger_ms", 5, 0));
    Security.apply(s, p);
    return p;
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) return;
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      System.err.println("kafka-streams SUT: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
