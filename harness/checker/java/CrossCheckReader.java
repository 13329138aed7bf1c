// The cross-check's second reader: Kafka's own Java consumer (read_committed) lists every committed record of a
// topic, so the harness can compare it with what its kafkajs reader delivered. No group, no commits: the
// partitions are assigned and read from the beginning up to a bound per partition (the offset the main reader
// had passed), or to the last stable offset when no bound is given.
//
// Usage: java -cp <classes>:<kafka jars>/* CrossCheckReader <client.properties> <topic> <bounds> <out.tsv.gz> <ms>
//   bounds: "p=offset,p=offset" (inclusive) or "-"
// Output (gzip, tab-separated), each partition's records in offset order:
//   r <partition> <offset> <key hash> <value hash>   value hash "-" for a null value
//   e <partition> <last stable offset when the read started>
//   done ok | done timeout <partitions not read to their target>
// Hashes: the first 16 hex digits of SHA-256 over the bytes, CR and LF counted as spaces (JSON whitespace:
// the run record stores a multi-line JSON value on one line).
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class CrossCheckReader {
  private CrossCheckReader() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: CrossCheckReader <client.properties> <topic> <bounds|-> <out.tsv.gz> <timeout ms>");
      System.exit(2);
    }
    Properties props = new Properties();
    try (FileInputStream in = new FileInputStream(args[0])) {
      props.load(in);
    }
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    props.put("isolation.level", "read_committed");
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.put("max.partition.fetch.bytes", String.valueOf(16 * 1024 * 1024));
    String topic = args[1];
    Map<Integer, Long> bounds = parseBounds(args[2]);
    long deadline = System.currentTimeMillis() + Long.parseLong(args[4]);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(
            new GZIPOutputStream(new FileOutputStream(args[3]), 1 << 16), StandardCharsets.UTF_8), 1 << 16)) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) throw new IllegalStateException("topic " + topic + " not found");
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo i : infos) tps.add(new TopicPartition(topic, i.partition()));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      // read_committed: the end offsets are the last stable offsets.
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofSeconds(30));
      Map<TopicPartition, Long> target = new HashMap<>();
      for (TopicPartition tp : tps) {
        Long b = bounds.get(tp.partition());
        long end = ends.get(tp);
        target.put(tp, b == null ? end : Math.min(end, b + 1));
      }
      List<TopicPartition> left = new ArrayList<>(tps);
      while (true) {
        // A partition read to its target is paused, so nothing past a bound is fetched or listed.
        List<TopicPartition> reached = new ArrayList<>();
        for (TopicPartition tp : left) if (consumer.position(tp) >= target.get(tp)) reached.add(tp);
        consumer.pause(reached);
        left.removeAll(reached);
        if (left.isEmpty() || System.currentTimeMillis() > deadline) break;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() >= target.get(tp)) continue;
          out.write("r\t" + r.partition() + "\t" + r.offset() + "\t" + hash(sha, r.key()) + "\t"
              + hash(sha, r.value()) + "\n");
        }
      }
      for (TopicPartition tp : tps)
        out.write("e\t" + tp.partition() + "\t" + ends.get(tp) + "\n");
      StringBuilder missing = new StringBuilder();
      for (TopicPartition tp : left) missing.append(missing.length() == 0 ? "" : ",").append(tp.partition());
      out.write(left.isEmpty() ? "done\tok\n" : "done\ttimeout\t" + missing + "\n");
    }
  }

  private static Map<Integer, Long> parseBounds(String text) {
    Map<Integer, Long> m = new HashMap<>();
    if (text.equals("-")) return m;
    for (String part : text.split(",")) {
      String[] kv = part.split("=");
      m.put(Integer.parseInt(kv[0]), Long.parseLong(kv[1]));
    }
    return m;
  }

  private static String hash(MessageDigest sha, byte[] bytes) {
    if (bytes == null) return "-";
    byte[] b = bytes.clone();
    for (int i = 0; i < b.length; i++) if (b[i] == '\n' || b[i] == '\r') b[i] = ' ';
    return HexFormat.of().formatHex(sha.digest(b), 0, 8);
  }
}
