#include "server/common/planning_memory.h"

#include <malloc.h>

namespace noqueue::server {

void KeepPlanningBuffers() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

}  // namespace noqueue::server
