// Runs a server binary (noqueue-server, or the benchmark's echo server) as a
// child process on a free port: for tests that must see the program itself
// (signals, exit code, a client that shares no code with the server) and
// for benchmarks that measure its CPU time and memory.
#ifndef NOQUEUE_TESTS_SUPPORT_SERVER_PROCESS_H_
#define NOQUEUE_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace noqueue::testing {

class ServerProcess {
 public:
  // Starts `binary --listen=127.0.0.1:0 --db=db_path` and waits for the line
  // that names its port. port() is 0 when it did not start.
  ServerProcess(const std::string& binary, const std::string& db_path)
      : ServerProcess(binary, {"--listen=127.0.0.1:0", "--db=" + db_path}) {}

  // Starts `binary args...` and waits for a line that says "listening on
  // port N".
  ServerProcess(const std::string& binary, std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(binary.c_str()));
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
    char line[512];
    while (out_ && fgets(line, sizeof line, out_)) {
      output_ += line;
      const char* at = std::strstr(line, "listening on port ");
      if (at && std::sscanf(at, "listening on port %d", &port_) == 1) break;
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_) fclose(out_);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  // Sends `sig`, waits for the exit and returns the exit status (-1 when the
  // process died of a signal). Collects the rest of its output.
  int Stop(int sig) {
    kill(pid_, sig);
    char line[512];
    while (out_ && fgets(line, sizeof line, out_)) output_ += line;
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
  bool exited_ = false;
  std::string output_;
};

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_SERVER_PROCESS_H_
