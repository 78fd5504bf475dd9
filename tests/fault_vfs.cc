#include "tests/fault_vfs.h"

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
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  const int rc =
      FaultVfs::Install().OnWrite(reinterpret_cast<FaultFile*>(f)->path);
  if (rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  const int rc =
      FaultVfs::Install().OnSync(reinterpret_cast<FaultFile*>(f)->path);
  if (rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xSync(Real(f), flags);
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
  const int rc = Apply(write_rule_, path);
  if (rc == SQLITE_OK) ++writes_;
  return rc;
}

int FaultVfs::OnSync(const char* path) { return Apply(sync_rule_, path); }

}  // namespace noqueue::testing
