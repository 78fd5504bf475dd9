// The store's floor of noqueue-bench: each repeat a run of StoreFloor's
// writes, merged into one point per workload.
#include "bench/store_floor_workload.h"

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/store_floor.h"

namespace noqueue::bench {

void MeasureStoreFloors(BenchRun& run, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<StoreFloor>> floor = StoreFloor::Open(dir);
  if (!floor.ok()) {
    run.AddNote(absl::StrCat("no store floor: ", floor.status().ToString()));
    return;
  }
  auto measure =
      [&](const std::string& workload, int c, double items,
          const std::function<absl::StatusOr<StoreFloor::Run>()>& once) {
        BenchRun::Progress(workload, "sqlite", c);
        std::vector<Point> runs;
        for (int r = 0; r < run.repeats(); ++r) {
          absl::StatusOr<StoreFloor::Run> done = once();
          if (!done.ok()) {
            run.AddNote(absl::StrCat(
                workload, ": no store floor: ", done.status().ToString()));
            return;
          }
          Point p = NewPoint(workload, "sqlite", c, items);
          p.seconds = done->wall_s;
          p.calls = done->calls;
          p.server_cpu_s = done->cpu_s;
          runs.push_back(std::move(p));
        }
        run.Add(Merge(std::move(runs)));
      };
  const double measure_s = run.timing().measure_s;
  measure("StreamArrivals", StoreFloor::kTagBatch, 1,
          [&] { return (*floor)->Tags(measure_s, run.planner_cpu()); });
  for (const auto& [workload, schedule] : run.served()) {
    measure(workload, 1, schedule.convocations_size(), [&] {
      return (*floor)->Schedules(schedule, measure_s, run.planner_cpu());
    });
  }
}

}  // namespace noqueue::bench
