#include "resp/reply_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace reborn::resp {
namespace {

std::string Write(int protocol, void (*fn)(ReplyWriter&)) {
  std::string out;
  ReplyWriter w(&out, protocol);
  fn(w);
  return out;
}

TEST(ReplyWriterTest, WritesScalars) {
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Ok(); }), "+OK\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Error("ERR x\r\ny"); }),
            "-ERR x  y\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Integer(-42); }), ":-42\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Bulk("ab"); }), "$2\r\nab\r\n");
}

TEST(ReplyWriterTest, Resp3TypesDegradeOnResp2) {
  auto map = [](ReplyWriter& w) {
    w.MapHeader(1);
    w.Bulk("k");
    w.Double(1.5);
  };
  EXPECT_EQ(Write(2, map), "*2\r\n$1\r\nk\r\n$3\r\n1.5\r\n");
  EXPECT_EQ(Write(3, map), "%1\r\n$1\r\nk\r\n,1.5\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Null(); }), "$-1\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.Null(); }), "_\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(Write(2, [](ReplyWriter& w) { w.Bool(true); }), ":1\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.Bool(false); }), "#f\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.SetHeader(2); }), "~2\r\n");
  EXPECT_EQ(Write(3, [](ReplyWriter& w) { w.PushHeader(3); }), ">3\r\n");
}

TEST(ReplyWriterTest, FormatsDoublesLikeRedis70) {
  EXPECT_EQ(FormatDouble(1.5), "1.5");
  EXPECT_EQ(FormatDouble(0.1), "0.10000000000000001");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatDouble(3), "3");
}

}  // namespace
}  // namespace reborn::resp
