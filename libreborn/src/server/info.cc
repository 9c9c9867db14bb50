// The built-in INFO sections of qdb-server. Field names follow
// redis-server's so that monitoring tools read them unchanged.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "command/command_spec.h"
#include "reborn/version.h"
#include "server/memory_stats.h"
#include "server/qdb_server_impl.h"

namespace reborn::server {
void AppendServerInfo(QdbServerImpl& server, std::string_view section,
                      std::string* out) {
  const int64_t now_ms = absl::GetCurrentTimeNanos() / 1000000;
  auto& net = server.network();
  if (section == "server") {
    utsname uts{};
    uname(&uts);
    int64_t uptime = (now_ms - server.start_ms()) / 1000;
    absl::StrAppend(
        out, "# Server\r\n", "redis_version:", kRedisCompatibleVersion, "\r\n",
        "qdb_version:", kVersion, "\r\n", "redis_mode:standalone\r\n",
        "os:", uts.sysname, " ", uts.release, " ", uts.machine, "\r\n",
        "arch_bits:64\r\n", "multiplexing_api:epoll\r\n",
        "process_id:", getpid(), "\r\n", "run_id:", server.run_id(), "\r\n",
        "tcp_port:", server.port(), "\r\n",
        "server_time_usec:", absl::GetCurrentTimeNanos() / 1000, "\r\n",
        "uptime_in_seconds:", uptime, "\r\n", "uptime_in_days:", uptime / 86400,
        "\r\n", "hz:", server.config().GetInt("hz"), "\r\n",
        "io_threads_active:", net.thread_count() > 1 ? 1 : 0, "\r\n",
        "storage_engine:", server.config().GetString("engine"), "\r\n",
        "config_file:", server.config().config_file(), "\r\n");
  } else if (section == "clients") {
    absl::StrAppend(
        out, "# Clients\r\n", "connected_clients:", net.clients().size(),
        "\r\n", "maxclients:", net.limits().max_clients.load(), "\r\n",
        "blocked_clients:", net.stats().blocked_clients.load(), "\r\n",
        "tracking_clients:", server.tracking().client_count(), "\r\n");
  } else if (section == "memory") {
    const MemoryReading mem = ReadProcessMemory();
    const int64_t maxmemory = server.config().GetInt("maxmemory");
    absl::StrAppend(
        out, "# Memory\r\n", "used_memory:", mem.used, "\r\n",
        "used_memory_human:", HumanBytes(mem.used), "\r\n",
        "used_memory_rss:", mem.rss, "\r\n",
        "used_memory_rss_human:", HumanBytes(mem.rss), "\r\n",
        "used_memory_peak:", mem.peak_rss, "\r\n",
        "used_memory_peak_human:", HumanBytes(mem.peak_rss), "\r\n",
        "number_of_cached_scripts:", server.scripting().cached_scripts(),
        "\r\n", "number_of_functions:", server.scripting().function_count(),
        "\r\n", "number_of_libraries:", server.scripting().library_count(),
        "\r\n", "maxmemory:", maxmemory, "\r\n",
        "maxmemory_human:", HumanBytes(maxmemory), "\r\n",
        "maxmemory_policy:", server.config().GetString("maxmemory-policy"),
        "\r\n", "mem_allocator:libc\r\n");
  } else if (section == "persistence") {
    // rdb_changes_since_last_save and the other rdb_* lines: RdbSaver.
    absl::StrAppend(
        out, "# Persistence\r\n", "loading:0\r\n", "aof_enabled:0\r\n",
        "sync_writes:", server.config().GetString("sync-writes"), "\r\n");
  } else if (section == "stats") {
    auto& stats = net.stats();
    absl::StrAppend(
        out, "# Stats\r\n",
        "total_connections_received:", net.clients().total_connections(),
        "\r\n", "total_commands_processed:", stats.commands.load(), "\r\n",
        "total_net_input_bytes:", stats.input_bytes.load(), "\r\n",
        "total_net_output_bytes:", stats.output_bytes.load(), "\r\n",
        "rejected_connections:", net.clients().rejected_connections(), "\r\n",
        "total_error_replies:", server.error_stats().total(), "\r\n",
        "protocol_errors:", stats.protocol_errors.load(), "\r\n",
        "client_output_buffer_limit_disconnections:",
        stats.output_limit_disconnections.load(), "\r\n",
        "evicted_clients:", stats.evicted_clients.load(), "\r\n",
        "client_query_buffer_limit_disconnections:",
        stats.query_limit_disconnections.load(), "\r\n",
        "auth_failures:", server.auth_failures().total(), "\r\n",
        "pubsub_channels:", server.pubsub().channel_count(), "\r\n",
        "pubsub_patterns:", server.pubsub().pattern_count(), "\r\n",
        "pubsubshard_channels:", server.pubsub().shard_channel_count(), "\r\n",
        // MIGRATE opens a new connection each time and caches none.
        "migrate_cached_sockets:0\r\n");
    server.tracking().AppendStats(out);
    server.replication().AppendSyncStats(out);
  } else if (section == "replication") {
    server.replication().AppendInfo(out);
  } else if (section == "cpu") {
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    auto secs = [](const timeval& tv) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                    static_cast<long>(tv.tv_usec));
      return std::string(buf);
    };
    absl::StrAppend(out, "# CPU\r\n", "used_cpu_sys:", secs(self.ru_stime),
                    "\r\n", "used_cpu_user:", secs(self.ru_utime), "\r\n");
  } else if (section == "commandstats") {
    absl::StrAppend(out, "# Commandstats\r\n");
    for (const auto& spec : AllCommandSpecs()) {
      const auto& c = server.command_stats().For(spec);
      uint64_t calls = c.calls.load();
      uint64_t rejected = c.rejected.load();
      if (calls == 0 && rejected == 0) continue;
      uint64_t usec = c.usec.load();
      char per_call[32];
      std::snprintf(per_call, sizeof(per_call), "%.2f",
                    calls ? static_cast<double>(usec) / calls : 0.0);
      absl::StrAppend(out, "cmdstat_", std::string(spec.name), ":calls=", calls,
                      ",usec=", usec, ",usec_per_call=", per_call,
                      ",rejected_calls=", rejected,
                      ",failed_calls=", c.failed.load(), "\r\n");
    }
  } else if (section == "errorstats") {
    absl::StrAppend(out, "# Errorstats\r\n");
    server.error_stats().AppendInfo(out);
  } else if (section == "keyspace") {
    absl::StrAppend(out, "# Keyspace\r\n");
  }
}

}  // namespace reborn::server
