#include "resp/reply_parser.h"

#include <gtest/gtest.h>

namespace reborn::resp {
namespace {

TEST(ReplyParserTest, RoundTripsNestedReplies) {
  Reply r{Reply::Type::kArray,
          {},
          0,
          {Reply::Status("OK"), Reply::Integer(7), Reply::String("a\r\nb"),
           Reply::Nil(), Reply::Error("ERR bad")}};
  std::string encoded = EncodeReply(r);
  ReplyParser parser;
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    size_t consumed;
    Reply out;
    EXPECT_EQ(parser.Parse(encoded.substr(0, cut), &consumed, &out),
              ReplyParser::Result::kNeedMore);
  }
  size_t consumed;
  Reply out;
  ASSERT_EQ(parser.Parse(encoded, &consumed, &out),
            ReplyParser::Result::kReply);
  EXPECT_EQ(consumed, encoded.size());
  EXPECT_EQ(out, r);
  EXPECT_EQ(parser.Measure(encoded + "+x\r\n"),
            static_cast<int64_t>(encoded.size()));
}

TEST(ReplyParserTest, ParsesResp3Types) {
  ReplyParser parser;
  size_t consumed;
  Reply out;
  ASSERT_EQ(parser.Parse("%1\r\n+a\r\n,1.5\r\n", &consumed, &out),
            ReplyParser::Result::kReply);
  EXPECT_EQ(out.type, Reply::Type::kMap);
  ASSERT_EQ(out.elements.size(), 2u);
  EXPECT_EQ(out.elements[1].type, Reply::Type::kDouble);
  EXPECT_EQ(out.elements[1].str, "1.5");
  ASSERT_EQ(parser.Parse("#t\r\n", &consumed, &out),
            ReplyParser::Result::kReply);
  EXPECT_EQ(out.integer, 1);
}

TEST(ReplyParserTest, RejectsCorruptInput) {
  ReplyParser parser;
  size_t consumed;
  Reply out;
  EXPECT_EQ(parser.Parse("?x\r\n", &consumed, &out),
            ReplyParser::Result::kError);
  EXPECT_EQ(parser.Parse("$-7\r\n", &consumed, &out),
            ReplyParser::Result::kError);
  EXPECT_EQ(parser.Parse(":12a\r\n", &consumed, &out),
            ReplyParser::Result::kError);
}

// A line reply is bounded like a bulk: a RESP3 big number of 5,763 bytes
// (found by the fuzzer) parsed under a 4,096-byte limit but could not be
// re-encoded as the bulk string it becomes.
TEST(ReplyParserTest, LineRepliesAreBoundedByTheBulkLimit) {
  ReplyParser parser(16);
  size_t consumed;
  Reply out;
  for (char type : {'+', '-', ',', '('}) {
    std::string fits = std::string(1, type) + std::string(16, '7') + "\r\n";
    EXPECT_EQ(parser.Parse(fits, &consumed, &out), ReplyParser::Result::kReply)
        << type;
    std::string over = std::string(1, type) + std::string(17, '7') + "\r\n";
    EXPECT_EQ(parser.Parse(over, &consumed, &out), ReplyParser::Result::kError)
        << type;
  }
  // A big number parses back from its encoding.
  ASSERT_EQ(parser.Parse("(" + std::string(16, '9') + "\r\n", &consumed, &out),
            ReplyParser::Result::kReply);
  Reply again;
  EXPECT_EQ(parser.Parse(EncodeReply(out, 3), &consumed, &again),
            ReplyParser::Result::kReply);
  EXPECT_EQ(again.str, std::string(16, '9'));
  // A line that never ends is corrupt once it is past any limit.
  EXPECT_EQ(parser.Parse("+" + std::string(40, 'x'), &consumed, &out),
            ReplyParser::Result::kNeedMore);
  EXPECT_EQ(parser.Parse("+" + std::string(64, 'x'), &consumed, &out),
            ReplyParser::Result::kError);
}

}  // namespace
}  // namespace reborn::resp
