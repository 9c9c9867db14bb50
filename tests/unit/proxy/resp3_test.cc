#include "proxy/resp3.h"

#include <gtest/gtest.h>

namespace reborn::proxy {
namespace {

using Args = std::vector<std::string>;
using K = Resp3Kind;

TEST(Resp3Test, KindsFollowTheCommand) {
  EXPECT_EQ(Resp3KindOf(Args{"HGETALL", "h"}), K::kMap);
  EXPECT_EQ(Resp3KindOf(Args{"zrange", "z", "0", "1", "withscores"}),
            K::kScorePairs);
  EXPECT_EQ(Resp3KindOf(Args{"zrange", "z", "0", "1"}), K::kPlain);
  EXPECT_EQ(Resp3KindOf(Args{"zpopmin", "z"}), K::kFlatScore);
  EXPECT_EQ(Resp3KindOf(Args{"zpopmin", "z", "2"}), K::kScorePairs);
  EXPECT_EQ(Resp3KindOf(Args{"spop", "s"}), K::kPlain);
  EXPECT_EQ(Resp3KindOf(Args{"spop", "s", "2"}), K::kSet);
  EXPECT_EQ(Resp3KindOf(Args{"client", "LIST"}), K::kVerbatim);
  EXPECT_EQ(Resp3KindOf(Args{"xread", "STREAMS", "s", "0"}), K::kStreamMap);
  EXPECT_EQ(Resp3KindOf(Args{"get", "k"}), K::kPlain);
}

TEST(Resp3Test, NullsEverywhere) {
  EXPECT_EQ(ToResp3("$-1\r\n", K::kPlain), "_\r\n");
  EXPECT_EQ(ToResp3("*-1\r\n", K::kPlain), "_\r\n");
  EXPECT_EQ(ToResp3("*2\r\n$1\r\na\r\n$-1\r\n", K::kPlain),
            "*2\r\n$1\r\na\r\n_\r\n");
  EXPECT_EQ(ToResp3("$3\r\n$-1\r\n", K::kPlain), "$3\r\n$-1\r\n");
  EXPECT_EQ(ToResp3("$-1\r\n", K::kDouble), "_\r\n");
}

TEST(Resp3Test, Shapes) {
  EXPECT_EQ(ToResp3("*2\r\n$1\r\nf\r\n$1\r\nv\r\n", K::kMap),
            "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(ToResp3("*0\r\n", K::kSet), "~0\r\n");
  EXPECT_EQ(ToResp3("$3\r\n1.5\r\n", K::kDouble), ",1.5\r\n");
  EXPECT_EQ(ToResp3("*2\r\n$1\r\nm\r\n$3\r\ninf\r\n", K::kScorePairs),
            "*1\r\n*2\r\n$1\r\nm\r\n,inf\r\n");
  EXPECT_EQ(ToResp3("$2\r\nhi\r\n", K::kVerbatim), "=6\r\ntxt:hi\r\n");
  EXPECT_EQ(ToResp3("*1\r\n*2\r\n$1\r\ns\r\n*0\r\n", K::kStreamMap),
            "%1\r\n$1\r\ns\r\n*0\r\n");
  EXPECT_EQ(ToResp3("*1\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n", K::kGeoCoords),
            "*1\r\n*2\r\n,1\r\n,2\r\n");
  EXPECT_EQ(ToResp3("*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\nm\r\n$1\r\n3\r\n",
                    K::kKeyScorePairs),
            "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\nm\r\n,3\r\n");
  EXPECT_EQ(ToResp3("-ERR x\r\n", K::kMap), "-ERR x\r\n");
}

TEST(Resp3Test, ExecElementsByQueuedKind) {
  std::vector<K> kinds = {K::kDouble, K::kMap, K::kPlain};
  EXPECT_EQ(ToResp3("*3\r\n$1\r\n2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$-1\r\n",
                    K::kExec, &kinds),
            "*3\r\n,2\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n_\r\n");
  EXPECT_EQ(ToResp3("*-1\r\n", K::kExec, &kinds), "_\r\n");
}

TEST(Resp3Test, MalformedIsPassedOn) {
  EXPECT_EQ(ToResp3("*2\r\n$1\r\na\r\n", K::kPlain), "*2\r\n$1\r\na\r\n");
  EXPECT_EQ(ToResp3("*99999999999\r\n", K::kPlain), "*99999999999\r\n");
}

}  // namespace
}  // namespace reborn::proxy
