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

}  // namespace
}  // namespace reborn::resp
