#include "tests/support/fault_vfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace noqueue::testing {
namespace {

// A file of the fault VFS: our header, then the real VFS's file.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
  const char* path;  // owned by SQLite, valid while the file is open
};

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;

sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<FaultFile*>(f)->real;
}

int Close(sqlite3_file* f) {
  sqlite3_file* real = Real(f);
  return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
const char* PathOf(sqlite3_file* f) {
  return reinterpret_cast<FaultFile*>(f)->path;
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  FaultVfs& vfs = FaultVfs::Install();
  const int rc = vfs.OnWrite(PathOf(f));
  if (rc != SQLITE_OK) return rc;
  vfs.BeforeWrite(Real(f), PathOf(f), off, n);
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  FaultVfs& vfs = FaultVfs::Install();
  if (vfs.powered_off()) return SQLITE_IOERR_TRUNCATE;
  vfs.BeforeWrite(Real(f), PathOf(f), size, -1);
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  FaultVfs& vfs = FaultVfs::Install();
  const int rc = vfs.OnSync(PathOf(f));
  if (rc != SQLITE_OK) return rc;
  const int synced = Real(f)->pMethods->xSync(Real(f), flags);
  if (synced == SQLITE_OK) vfs.Synced(PathOf(f));
  return synced;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend,
           void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) {
  return Real(f)->pMethods->xShmUnmap(Real(f), del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

// In sqlite3_io_methods' order: xClose, xRead, xWrite, xTruncate, xSync...
const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags,
         int* out_flags) {
  FaultFile* ff = reinterpret_cast<FaultFile*>(f);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->path = name;
  const int rc = g_real->xOpen(g_real, name, ff->real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set: set it whenever the
  // real file is open, so that closing reaches it.
  f->pMethods = ff->real->pMethods ? &kMethods : nullptr;
  return rc;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  const int rc = FaultVfs::Install().OnDelete(name);
  if (rc != SQLITE_OK) return rc;
  return g_real->xDelete(g_real, name, sync_dir);
}

}  // namespace

FaultVfs& FaultVfs::Install() {
  static FaultVfs* vfs = new FaultVfs();
  static std::once_flag once;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find(nullptr);
    g_vfs = *g_real;
    g_vfs.zName = kName;
    g_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real->szOsFile;
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.pNext = nullptr;
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
  });
  return *vfs;
}

void FaultVfs::FailWrites(int after, int code, const std::string& suffix) {
  write_rule_.armed = false;
  write_rule_.suffix = suffix;
  write_rule_.remaining = after;
  write_rule_.code = code;
  write_rule_.armed = true;
}

void FaultVfs::FailSyncs(int after, int code, const std::string& suffix) {
  sync_rule_.armed = false;
  sync_rule_.suffix = suffix;
  sync_rule_.remaining = after;
  sync_rule_.code = code;
  sync_rule_.armed = true;
}

void FaultVfs::Clear() {
  write_rule_.armed = false;
  sync_rule_.armed = false;
  std::lock_guard<std::mutex> lock(power_mu_);
  recording_ = false;
  powered_off_ = false;
  power_writes_left_ = -1;
  unsynced_.clear();
}

void FaultVfs::RecordUnsynced() {
  std::lock_guard<std::mutex> lock(power_mu_);
  unsynced_.clear();
  powered_off_ = false;
  recording_ = true;
}

void FaultVfs::PowerOffAfter(int writes) { power_writes_left_ = writes; }

void FaultVfs::BeforeWrite(sqlite3_file* file, const char* path, int64_t offset,
                           int n) {
  if (!recording_ || path == nullptr) return;
  std::lock_guard<std::mutex> lock(power_mu_);
  Unsynced& u = unsynced_[path];
  sqlite3_int64 size = 0;
  if (file->pMethods->xFileSize(file, &size) != SQLITE_OK) return;
  if (u.synced_size < 0) u.synced_size = size;
  // A truncation overwrites everything past its new end.
  const int64_t length = n >= 0 ? n : std::max<int64_t>(0, size - offset);
  if (length == 0) return;
  std::string bytes(static_cast<size_t>(length), '\0');
  // Past the end a read comes back short and zero-filled: the final
  // truncation to the synced size takes that part away again.
  const int rc = file->pMethods->xRead(file, bytes.data(),
                                       static_cast<int>(length), offset);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return;
  u.undo.push_back({offset, std::move(bytes)});
}

void FaultVfs::Synced(const char* path) {
  if (!recording_ || path == nullptr) return;
  std::lock_guard<std::mutex> lock(power_mu_);
  unsynced_.erase(path);
}

int FaultVfs::RestoreSynced() {
  std::lock_guard<std::mutex> lock(power_mu_);
  int undone = 0;
  for (auto& [path, u] : unsynced_) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) continue;  // deleted, or never created on disk
    for (auto it = u.undo.rbegin(); it != u.undo.rend(); ++it) {
      (void)!::pwrite(fd, it->bytes.data(), it->bytes.size(), it->offset);
      ++undone;
    }
    (void)!::ftruncate(fd, u.synced_size);
    ::close(fd);
  }
  unsynced_.clear();
  recording_ = false;
  powered_off_ = false;
  power_writes_left_ = -1;
  return undone;
}

int FaultVfs::OnDelete(const char*) {
  return powered_off_ ? SQLITE_IOERR_DELETE : SQLITE_OK;
}

int FaultVfs::Apply(Rule& rule, const char* path) {
  if (!rule.armed) return SQLITE_OK;
  if (path == nullptr) path = "";
  const size_t n = std::strlen(path);
  const std::string& suffix = rule.suffix;
  if (suffix.size() > n ||
      std::strcmp(path + n - suffix.size(), suffix.c_str()) != 0) {
    return SQLITE_OK;
  }
  if (rule.remaining.fetch_sub(1) > 0) return SQLITE_OK;
  ++failed_;
  return rule.code;
}

int FaultVfs::OnWrite(const char* path) {
  if (powered_off_) return SQLITE_IOERR_WRITE;
  if (power_writes_left_ >= 0 && power_writes_left_.fetch_sub(1) == 0) {
    powered_off_ = true;
    return SQLITE_IOERR_WRITE;
  }
  const int rc = Apply(write_rule_, path);
  if (rc == SQLITE_OK) ++writes_;
  return rc;
}

int FaultVfs::OnSync(const char* path) {
  if (powered_off_) return SQLITE_IOERR_FSYNC;
  return Apply(sync_rule_, path);
}

}  // namespace noqueue::testing
