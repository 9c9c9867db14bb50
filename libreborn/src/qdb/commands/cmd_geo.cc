// RESP handlers of the GEO commands: positions are sorted-set members whose
// score is a 52-bit geohash (qdb/types/geohash.h), so these are argument
// parsing, geohash math and replies as redis-server 7.0's geo.c does them,
// over qdb::ZSets.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "qdb/commands/cmd_util.h"
#include "qdb/types/geohash.h"
#include "qdb/types/zsets.h"
#include "util/partial_quicksort.h"

namespace reborn::qdb {
namespace {

constexpr std::string_view kNotFloat = "ERR value is not a valid float";
constexpr std::string_view kBadMember =
    "ERR could not decode requested zset member";

bool ArgDouble(CommandContext& ctx, size_t i, double* out,
               std::string_view error = kNotFloat) {
  if (ParseDouble(ctx.args[i], out)) return true;
  ctx.reply.Error(error);
  return false;
}

// extractLongLatOrReply: args[i], args[i + 1] as a storable position.
bool ArgLonLat(CommandContext& ctx, size_t i, GeoPoint* out) {
  if (!ArgDouble(ctx, i, &out->longitude) ||
      !ArgDouble(ctx, i + 1, &out->latitude)) {
    return false;
  }
  if (out->longitude < kGeoLongMin || out->longitude > kGeoLongMax ||
      out->latitude < kGeoLatMin || out->latitude > kGeoLatMax) {
    char buf[700];  // "%f" of 1e308 is 316 characters
    std::snprintf(buf, sizeof(buf), "ERR invalid longitude,latitude pair %f,%f",
                  out->longitude, out->latitude);
    ctx.reply.Error(buf);
    return false;
  }
  return true;
}

// extractUnitOrReply: meters per unit.
bool ArgUnit(CommandContext& ctx, size_t i, double* to_meters) {
  const std::string& u = ctx.args[i];
  if (EqualsIgnoreCase(u, "m")) {
    *to_meters = 1;
  } else if (EqualsIgnoreCase(u, "km")) {
    *to_meters = 1000;
  } else if (EqualsIgnoreCase(u, "ft")) {
    *to_meters = 0.3048;
  } else if (EqualsIgnoreCase(u, "mi")) {
    *to_meters = 1609.34;
  } else {
    ctx.reply.Error("ERR unsupported unit provided. please use M, KM, FT, MI");
    return false;
  }
  return true;
}

// "radius unit" at args[i].
bool ArgRadius(CommandContext& ctx, size_t i, GeoShape* shape) {
  double radius;
  if (!ArgDouble(ctx, i, &radius, "ERR need numeric radius")) return false;
  if (radius < 0) {
    ctx.reply.Error("ERR radius cannot be negative");
    return false;
  }
  shape->radius = radius;
  return ArgUnit(ctx, i + 1, &shape->conversion);
}

// "width height unit" at args[i].
bool ArgBox(CommandContext& ctx, size_t i, GeoShape* shape) {
  double w, h;
  if (!ArgDouble(ctx, i, &w, "ERR need numeric width") ||
      !ArgDouble(ctx, i + 1, &h, "ERR need numeric height")) {
    return false;
  }
  if (h < 0 || w < 0) {
    ctx.reply.Error("ERR height or width cannot be negative");
    return false;
  }
  shape->width = w;
  shape->height = h;
  return ArgUnit(ctx, i + 2, &shape->conversion);
}

// Redis' fixedpoint_d2string(d, 4): distances with exactly four decimals.
std::string FormatDistance(double d) {
  if (d == 0) return "0.0000";
  const long long scaled = std::llrint(d * 10000.0);
  const unsigned long long value =
      scaled < 0 ? 0ULL - static_cast<unsigned long long>(scaled)
                 : static_cast<unsigned long long>(scaled);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%llu.%04llu", scaled < 0 ? "-" : "",
                value / 10000, value % 10000);
  return buf;
}

// addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3, both
// as "%.17Lf" without trailing zeros.
void ReplyCoordinate(resp::ReplyWriter& reply, double v) {
  const std::string text = FormatLongDouble(v);
  if (reply.protocol() >= 3) {
    reply.Raw(absl::StrCat(",", text, "\r\n"));
  } else {
    reply.Bulk(text);
  }
}

// (long long) of a score the way x86-64 converts it (WITHHASH).
int64_t ScoreAsInteger(double score) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (score > -kTwo63 && score < kTwo63) return static_cast<int64_t>(score);
  return std::numeric_limits<int64_t>::min();
}

// The score of `member` in `key`, nullopt when either is missing.
absl::StatusOr<std::optional<double>> MemberScore(EngineCore& core, uint8_t db,
                                                  const std::string& key,
                                                  const std::string& member) {
  auto r = core.zsets().Scores(db, key, {member});
  if (!r.ok()) return r.status();
  return (*r)[0];
}

void GeoAdd(EngineCore& core, CommandContext& ctx) {
  ZAddOptions opt;
  size_t idx = 2;
  for (; idx < ctx.args.size(); ++idx) {
    const std::string& a = ctx.args[idx];
    if (EqualsIgnoreCase(a, "nx")) {
      opt.nx = true;
    } else if (EqualsIgnoreCase(a, "xx")) {
      opt.xx = true;
    } else if (EqualsIgnoreCase(a, "ch")) {
      opt.ch = true;
    } else {
      break;
    }
  }
  const size_t left = ctx.args.size() - idx;
  if (left % 3 != 0 || (opt.xx && opt.nx)) {
    return ctx.reply.Error(kSyntaxText);
  }
  // Like Redis (which hands over to ZADD), nothing is added when there are
  // no triplets: ZADD's own syntax error.
  if (left == 0) return ctx.reply.Error(kSyntaxText);
  std::vector<ScoredMember> members(left / 3);
  for (size_t j = 0; j < members.size(); ++j) {
    GeoPoint p;
    if (!ArgLonLat(ctx, idx + 3 * j, &p)) return;
    members[j].score = static_cast<double>(GeoScore(p.longitude, p.latitude));
    members[j].member = ctx.args[idx + 3 * j + 2];
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.zsets().Add(db, ctx.args[1], opt, members);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.session.changes = r->dirty;
    ctx.reply.Integer(r->changed);
  });
}

// GEOPOS and GEOHASH: one entry per member, nil for missing ones.
void GeoPerMember(EngineCore& core, CommandContext& ctx, bool hash) {
  std::vector<std::string> members(ctx.args.begin() + 2, ctx.args.end());
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.zsets().Scores(db, ctx.args[1], members);
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    ctx.reply.ArrayHeader(r->size());
    for (const std::optional<double>& score : *r) {
      std::optional<GeoPoint> p;
      if (score) p = GeoScoreToPoint(*score);
      if (hash) {
        if (p) {
          ctx.reply.Bulk(GeoHashString(*p));
        } else {
          ctx.reply.Null();
        }
      } else if (p) {
        ctx.reply.ArrayHeader(2);
        ReplyCoordinate(ctx.reply, p->longitude);
        ReplyCoordinate(ctx.reply, p->latitude);
      } else {
        ctx.reply.NullArray();
      }
    }
  });
}

void GeoDist(EngineCore& core, CommandContext& ctx) {
  double to_meters = 1;
  if (ctx.args.size() == 5) {
    if (!ArgUnit(ctx, 4, &to_meters)) return;
  } else if (ctx.args.size() > 5) {
    return ctx.reply.Error(kSyntaxText);
  }
  WithDb(core, ctx, [&](uint8_t db) {
    auto r = core.zsets().Scores(db, ctx.args[1], {ctx.args[2], ctx.args[3]});
    if (!r.ok()) return ReplyStatusError(ctx.reply, r.status());
    if (!(*r)[0] || !(*r)[1]) return ctx.reply.Null();
    std::optional<GeoPoint> a = GeoScoreToPoint(*(*r)[0]);
    std::optional<GeoPoint> b = GeoScoreToPoint(*(*r)[1]);
    if (!a || !b) return ctx.reply.Null();
    ctx.reply.Bulk(FormatDistance(
        GeoDistance(a->longitude, a->latitude, b->longitude, b->latitude) /
        to_meters));
  });
}

enum GeoFlag : int {
  kFromCoords = 1 << 0,   // GEORADIUS: centre from arguments
  kFromMember = 1 << 1,   // GEORADIUSBYMEMBER: centre from a member
  kNoStore = 1 << 2,      // the _RO variants
  kSearch = 1 << 3,       // GEOSEARCH syntax
  kSearchStore = 1 << 4,  // GEOSEARCHSTORE
};

enum class GeoSort { kNone, kAsc, kDesc };

struct GeoHit {
  std::string member;
  GeoPoint point;
  double distance = 0;  // meters, then the user's unit
  double score = 0;
};

// Collects the members of `key` within `shape`, scanning the geohash cells
// in Redis' order and stopping at `limit` hits (0 = no limit) as COUNT ANY
// does.
absl::Status FindInShape(EngineCore& core, uint8_t db, const std::string& key,
                         const GeoShape& shape, size_t limit,
                         std::vector<GeoHit>* hits) {
  for (const GeoScoreRange& cell : GeoSearchRanges(shape)) {
    if (limit != 0 && hits->size() >= limit) break;
    ZRangeSpec spec;
    spec.kind = ZRangeSpec::Kind::kScore;
    spec.score.min = static_cast<double>(cell.min);
    spec.score.max = static_cast<double>(cell.max);
    spec.score.max_ex = true;
    auto r = core.zsets().Range(db, key, spec);
    if (!r.ok()) return r.status();
    if (!*r) break;
    for (ScoredMember& m : **r) {
      GeoHit hit;
      if (GeoWithinShape(shape, m.score, &hit.point, &hit.distance)) {
        hit.member = std::move(m.member);
        hit.score = m.score;
        hits->push_back(std::move(hit));
      }
      if (limit != 0 && hits->size() >= limit) break;
    }
  }
  return absl::OkStatus();
}

// A parsed GEORADIUS[BYMEMBER][_RO] / GEOSEARCH[STORE] request.
struct GeoQuery {
  GeoShape shape;
  const std::string* store_key = nullptr;
  bool store_dist = false;
  bool withdist = false, withhash = false, withcoords = false;
  bool any = false;
  GeoSort sort = GeoSort::kNone;
  int64_t count = 0;  // 0: no COUNT
};

// The centre of a BYMEMBER / FROMMEMBER search; replies the error and
// returns false when the member is missing.
bool MemberCenter(EngineCore& core, CommandContext& ctx, uint8_t db,
                  const std::string& key, const std::string& member,
                  GeoPoint* out) {
  auto s = MemberScore(core, db, key, member);
  if (!s.ok()) {
    ReplyStatusError(ctx.reply, s.status());
    return false;
  }
  std::optional<GeoPoint> p;
  if (*s) p = GeoScoreToPoint(**s);
  if (!p) {
    ctx.reply.Error(kBadMember);
    return false;
  }
  *out = *p;
  return true;
}

// Port of georadiusGeneric's argument parsing, in its order: the centre and
// radius of GEORADIUS[BYMEMBER], the options, then the checks of their
// combinations. A member centre is looked up only when the key `exists`
// (otherwise Redis parses on, to pick the empty reply's type). Replies the
// error and returns false on failure.
bool ParseGeoQuery(EngineCore& core, CommandContext& ctx, uint8_t db,
                   size_t src_idx, int flags, bool exists, GeoQuery* q) {
  const std::vector<std::string>& args = ctx.args;
  const std::string& src = args[src_idx];
  GeoShape& shape = q->shape;
  size_t base = 0;
  if (flags & kFromCoords) {
    base = 6;
    if (!ArgLonLat(ctx, 2, &shape.center) || !ArgRadius(ctx, 4, &shape)) {
      return false;
    }
  } else if (flags & kFromMember) {
    base = 5;
    if (exists && (!MemberCenter(core, ctx, db, src, args[2], &shape.center) ||
                   !ArgRadius(ctx, 3, &shape))) {
      return false;
    }
  } else {
    base = 2;
    if (flags & kSearchStore) {
      base = 3;
      q->store_key = &args[1];
    }
  }
  const bool search = flags & kSearch;
  const bool can_store = !(flags & kNoStore) && !search;
  bool frommember = false, fromloc = false, byradius = false, bybox = false;
  for (size_t i = base; i < args.size(); ++i) {
    const std::string& a = args[i];
    const size_t more = args.size() - i - 1;
    if (EqualsIgnoreCase(a, "withdist")) {
      q->withdist = true;
    } else if (EqualsIgnoreCase(a, "withhash")) {
      q->withhash = true;
    } else if (EqualsIgnoreCase(a, "withcoord")) {
      q->withcoords = true;
    } else if (EqualsIgnoreCase(a, "any")) {
      q->any = true;
    } else if (EqualsIgnoreCase(a, "asc")) {
      q->sort = GeoSort::kAsc;
    } else if (EqualsIgnoreCase(a, "desc")) {
      q->sort = GeoSort::kDesc;
    } else if (EqualsIgnoreCase(a, "count") && more >= 1) {
      if (!ArgInt64(ctx, ++i, &q->count)) return false;
      if (q->count <= 0) {
        ctx.reply.Error("ERR COUNT must be > 0");
        return false;
      }
    } else if (EqualsIgnoreCase(a, "store") && more >= 1 && can_store) {
      q->store_key = &args[++i];
      q->store_dist = false;
    } else if (EqualsIgnoreCase(a, "storedist") && more >= 1 && can_store) {
      q->store_key = &args[++i];
      q->store_dist = true;
    } else if (EqualsIgnoreCase(a, "storedist") && (flags & kSearchStore)) {
      q->store_dist = true;
    } else if (EqualsIgnoreCase(a, "frommember") && more >= 1 && search &&
               !fromloc) {
      ++i;
      if (exists && !MemberCenter(core, ctx, db, src, args[i], &shape.center)) {
        return false;
      }
      frommember = true;
    } else if (EqualsIgnoreCase(a, "fromlonlat") && more >= 2 && search &&
               !frommember) {
      if (!ArgLonLat(ctx, i + 1, &shape.center)) return false;
      fromloc = true;
      i += 2;
    } else if (EqualsIgnoreCase(a, "byradius") && more >= 2 && search &&
               !bybox) {
      if (!ArgRadius(ctx, i + 1, &shape)) return false;
      shape.type = GeoShape::Type::kCircle;
      byradius = true;
      i += 2;
    } else if (EqualsIgnoreCase(a, "bybox") && more >= 3 && search &&
               !byradius) {
      if (!ArgBox(ctx, i + 1, &shape)) return false;
      shape.type = GeoShape::Type::kBox;
      bybox = true;
      i += 3;
    } else {
      ctx.reply.Error(kSyntaxText);
      return false;
    }
  }
  if (q->store_key && (q->withdist || q->withhash || q->withcoords)) {
    ctx.reply.Error(absl::StrCat(
        "ERR ",
        (flags & kSearchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS",
        " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
    return false;
  }
  if (search && !(frommember || fromloc)) {
    ctx.reply.Error(absl::StrCat(
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ",
        args[0]));
    return false;
  }
  if (search && !(byradius || bybox)) {
    ctx.reply.Error(absl::StrCat(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for ",
        args[0]));
    return false;
  }
  if (q->any && q->count == 0) {
    ctx.reply.Error("ERR the ANY argument requires COUNT argument");
    return false;
  }
  return true;
}

// Orders the hits so that the first `returned` are the ones to answer, as
// Redis does: a stable full sort (its qsort is glibc's merge sort), or its
// partial quicksort when COUNT keeps fewer than were found.
void SortHits(std::vector<GeoHit>& hits, GeoSort sort, size_t returned) {
  if (sort == GeoSort::kNone) return;
  const int sign = sort == GeoSort::kAsc ? 1 : -1;
  auto cmp = [sign](const GeoHit& x, const GeoHit& y) {
    return x.distance > y.distance    ? sign
           : x.distance == y.distance ? 0
                                      : -sign;
  };
  if (returned == hits.size()) {
    std::stable_sort(
        hits.begin(), hits.end(),
        [&](const GeoHit& x, const GeoHit& y) { return cmp(x, y) < 0; });
  } else if (returned > 0) {
    PartialQuickSort(hits, 0, hits.size(), 0, returned - 1, cmp);
  }
}

void ReplyHits(resp::ReplyWriter& reply, const std::vector<GeoHit>& hits,
               const GeoQuery& q) {
  const size_t extras =
      (q.withdist ? 1 : 0) + (q.withhash ? 1 : 0) + (q.withcoords ? 1 : 0);
  reply.ArrayHeader(hits.size());
  for (const GeoHit& h : hits) {
    if (extras) reply.ArrayHeader(extras + 1);
    reply.Bulk(h.member);
    if (q.withdist) reply.Bulk(FormatDistance(h.distance));
    if (q.withhash) reply.Integer(ScoreAsInteger(h.score));
    if (q.withcoords) {
      reply.ArrayHeader(2);
      ReplyCoordinate(reply, h.point.longitude);
      ReplyCoordinate(reply, h.point.latitude);
    }
  }
}

// Port of georadiusGeneric: GEORADIUS[BYMEMBER][_RO], GEOSEARCH[STORE].
void GeoRadiusGeneric(EngineCore& core, CommandContext& ctx, size_t src_idx,
                      int flags) {
  const std::string& src = ctx.args[src_idx];
  WithDb(core, ctx, [&](uint8_t db) {
    // Redis looks the key up (and checks its type) before anything else.
    auto card = core.zsets().Card(db, src);
    if (!card.ok()) return ReplyStatusError(ctx.reply, card.status());
    const bool exists = *card > 0;
    GeoQuery q;
    if (!ParseGeoQuery(core, ctx, db, src_idx, flags, exists, &q)) return;

    // Replaces the destination (deletes it when `members` is empty).
    auto store = [&](const std::vector<ScoredMember>& members) {
      auto n = core.zsets().Store(db, *q.store_key, members);
      if (!n.ok()) return ReplyStatusError(ctx.reply, n.status());
      ctx.reply.Integer(static_cast<int64_t>(members.size()));
    };
    if (!exists) {
      if (q.store_key) return store({});
      return ctx.reply.ArrayHeader(0);
    }
    // COUNT without an order means the closest ones (but not with ANY).
    if (q.count != 0 && q.sort == GeoSort::kNone && !q.any) {
      q.sort = GeoSort::kAsc;
    }
    std::vector<GeoHit> hits;
    absl::Status s =
        FindInShape(core, db, src, q.shape,
                    q.any ? static_cast<size_t>(q.count) : 0, &hits);
    if (!s.ok()) return ReplyStatusError(ctx.reply, s);
    if (hits.empty() && !q.store_key) return ctx.reply.ArrayHeader(0);

    const size_t returned =
        q.count == 0 || hits.size() < static_cast<uint64_t>(q.count)
            ? hits.size()
            : static_cast<size_t>(q.count);
    SortHits(hits, q.sort, returned);
    hits.resize(returned);
    for (GeoHit& h : hits) h.distance /= q.shape.conversion;
    if (!q.store_key) return ReplyHits(ctx.reply, hits, q);

    std::vector<ScoredMember> members;
    members.reserve(hits.size());
    // A cell scanned twice (huge radii) would repeat a member.
    absl::flat_hash_set<std::string_view> seen;
    for (const GeoHit& h : hits) {
      if (!seen.insert(h.member).second) continue;
      members.push_back({h.member, q.store_dist ? h.distance : h.score});
    }
    store(members);
  });
}

}  // namespace

void RegisterGeoCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status) {
  auto reg = [&](std::string_view name, CommandHandler h) {
    if (absl::Status s = table.Register(name, std::move(h)); !s.ok()) {
      status->Update(s);
    }
  };
  EngineCore* c = &core;
  reg("geoadd", [c](CommandContext& ctx) { GeoAdd(*c, ctx); });
  reg("geopos", [c](CommandContext& ctx) { GeoPerMember(*c, ctx, false); });
  reg("geohash", [c](CommandContext& ctx) { GeoPerMember(*c, ctx, true); });
  reg("geodist", [c](CommandContext& ctx) { GeoDist(*c, ctx); });
  const std::pair<std::string_view, int> searches[] = {
      {"georadius", kFromCoords},
      {"georadius_ro", kFromCoords | kNoStore},
      {"georadiusbymember", kFromMember},
      {"georadiusbymember_ro", kFromMember | kNoStore},
      {"geosearch", kSearch},
  };
  for (const auto& [name, flags] : searches) {
    reg(name, [c, f = flags](CommandContext& ctx) {
      GeoRadiusGeneric(*c, ctx, 1, f);
    });
  }
  reg("geosearchstore", [c](CommandContext& ctx) {
    GeoRadiusGeneric(*c, ctx, 2, kSearch | kSearchStore);
  });
}

}  // namespace reborn::qdb
