// noqueue-bench --soak=MINUTES: the server under a steady load for minutes,
// to see what drifts. The load is tags on S streams with a
// CreateSchedule(100) every second beside them: first the most tags per
// second that the streams get acknowledged (a probe, unpaced), then the
// streams paced at a fraction of it (0.8 by default).
// Every interval it samples the tags' acknowledgement latency (P50, P99),
// the schedules' P99, the server's memory (resident, and its heap: RssAnon)
// and the WAL's size on disk; at the end it compares the last quarter of
// the run with the first (the drift; flat is the target) and plots the
// three over time.
#ifndef NOQUEUE_BENCH_SOAK_H_
#define NOQUEUE_BENCH_SOAK_H_

#include <sys/types.h>

#include <string>

namespace noqueue::bench {

struct SoakOptions {
  std::string target;      // the server, host:port
  pid_t server_pid = -1;   // for its memory (-1: not read)
  std::string wal_path;    // its database's -wal file ("": not read)
  double minutes = 10;     // the soak, after the probe
  double interval_s = 10;  // one sample every
  double probe_s = 20;     // the unpaced probe of the most tags per second
  double load = 0.8;       // the soak's rate, as a fraction of the probe's
  int streams = 8;         // tag streams
  int window = 256;        // unacknowledged tags per stream at most
  std::string svg_path;    // the plot ("": none)
};

// Runs the soak and prints its samples and summary. Returns 0, or 3 when a
// call or a tag failed.
int RunSoak(const SoakOptions& options);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_SOAK_H_
