// A storage failure becomes an error reply, never a crash or a silent loss,
// and leaves counts and data consistent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "command/command_table.h"
#include "qdb/engine_core.h"
#include "resp/reply_parser.h"
#include "storage/fault_injection_store.h"
#include "storage/kv_store.h"

namespace reborn {
namespace {

class StorageErrorsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // Unique per process and test: ctest runs tests in parallel.
    dir_ = ::testing::TempDir() + "storage_errors_" +
           std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    QdbOptions o;
    o.engine = *ParseStorageEngine(GetParam());
    o.dir = dir_;
    o.block_cache_mb = 8;
    auto core = qdb::EngineCore::OpenForTest(
        o, [this](std::unique_ptr<storage::KvStore> base) {
          auto wrapped =
              std::make_unique<storage::FaultInjectionKvStore>(std::move(base));
          faults_ = wrapped.get();
          return wrapped;
        });
    ASSERT_TRUE(core.ok()) << core.status();
    core_ = std::move(*core);
    ASSERT_NE(faults_, nullptr);
  }
  void TearDown() override {
    core_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Run(std::vector<std::string> args) {
    std::string out;
    resp::ReplyWriter w(&out);
    core_->table().Dispatch(session_, args, w);
    return out;
  }

  std::string dir_;
  Session session_;
  storage::FaultInjectionKvStore* faults_ = nullptr;
  std::unique_ptr<qdb::EngineCore> core_;
};

TEST_P(StorageErrorsTest, FailedWriteIsAnErrorReplyAndChangesNothing) {
  EXPECT_EQ(Run({"SET", "a", "1"}), "+OK\r\n");
  faults_->FailWritesForTest(true);
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"SET", "b", "2"},
                                             {"INCR", "a"},
                                             {"DEL", "a"},
                                             {"MSET", "c", "1", "d", "2"},
                                             {"EXPIRE", "a", "100"},
                                             {"RENAME", "a", "z"},
                                             {"FLUSHDB"},
                                             {"SWAPDB", "0", "1"}}) {
    std::string reply = Run(cmd);
    EXPECT_EQ(reply.rfind("-ERR storage error: ", 0), 0u) << cmd[0] << reply;
  }
  faults_->FailWritesForTest(false);
  EXPECT_EQ(Run({"DBSIZE"}), ":1\r\n");
  EXPECT_EQ(Run({"GET", "a"}), "$1\r\n1\r\n");
  EXPECT_EQ(Run({"TTL", "a"}), ":-1\r\n");
  EXPECT_EQ(Run({"EXISTS", "b", "c", "z"}), ":0\r\n");
  EXPECT_EQ(Run({"INCR", "a"}), ":2\r\n");
}

TEST_P(StorageErrorsTest, FailedReadIsAnErrorReply) {
  EXPECT_EQ(Run({"SET", "a", "1"}), "+OK\r\n");
  faults_->FailReadsForTest(true);
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"GET", "a"},
                                             {"MGET", "a", "b"},
                                             {"SET", "a", "2"},
                                             {"EXISTS", "a"},
                                             {"INCR", "a"}}) {
    std::string reply = Run(cmd);
    EXPECT_EQ(reply.rfind("-ERR storage error: ", 0), 0u) << cmd[0] << reply;
  }
  faults_->FailReadsForTest(false);
  EXPECT_EQ(Run({"GET", "a"}), "$1\r\n1\r\n");
}

// The engines of this build (leveldb only with REBORN_WITH_LEVELDB).
std::vector<std::string> BuiltEngineNames() {
  std::vector<std::string> names;
  for (StorageEngine e : AvailableStorageEngines()) {
    names.emplace_back(StorageEngineName(e));
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllEngines, StorageErrorsTest,
                         ::testing::ValuesIn(BuiltEngineNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reborn
