// How malloc keeps the buffers that planning a large day works in.
#ifndef NOQUEUE_SERVER_COMMON_PLANNING_MEMORY_H_
#define NOQUEUE_SERVER_COMMON_PLANNING_MEMORY_H_

namespace noqueue::server {

// Once per process, before any planning: a large day's planning works in
// buffers of a few MB (its simulated days). With glibc's adaptive
// thresholds they went back to the kernel after each call (unmapped, or
// trimmed off the arena's top) and were faulted in again at the next, a
// page fault per page of a few MB at every call. With this, blocks under 32 MB
// come from malloc's arenas and each arena keeps up to 32 MB free at its top:
// RSS stays that much higher per arena after large days, for all of the
// process's allocations. Larger blocks (a converged search's judge on 20,000
// attendees) are still mapped. The server and the bench's processes (its
// planner ceiling, its echo) call it, so that they allocate alike; a
// sanitizer's allocator ignores it.
void KeepPlanningBuffers();

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_COMMON_PLANNING_MEMORY_H_
