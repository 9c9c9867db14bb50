#include "qdb/types/geohash.h"

#include <cmath>
#include <limits>

namespace reborn::qdb {
namespace {

// Redis' constants, spelled as Redis spells them: the results must agree to
// the last bit, so the same operations run in the same order.
constexpr double kDegToRad = M_PI / 180.0;
constexpr double kMercatorMax = 20037726.37;

double DegRad(double deg) { return deg * kDegToRad; }
double RadDeg(double rad) { return rad / kDegToRad; }

// Spreads the 32 bits of `v` over the even bits of a 64-bit word.
uint64_t Spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// The inverse of Spread: the even bits of `x`, packed.
uint32_t Squash(uint64_t x) {
  x &= 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

// Latitude in the even bits, longitude in the odd ones.
uint64_t Interleave(uint32_t lat, uint32_t lon) {
  return Spread(lat) | (Spread(lon) << 1);
}

// Moves a hash one cell along one axis (+1 / -1), wrapping around. `axis`
// is the mask of that axis' bits (odd bits: longitude, even: latitude).
void Move(GeoHashBits* hash, int d, uint64_t axis) {
  if (d == 0) return;
  const uint64_t shift = 64 - hash->step * 2;
  uint64_t moving = hash->bits & axis;
  const uint64_t fixed = hash->bits & ~axis;
  // All-ones in the other axis' bits, so that carries ripple through them.
  const uint64_t filler = ~axis >> shift;
  if (d > 0) {
    moving = moving + (filler + 1);
  } else {
    moving = moving | filler;
    moving = moving - (filler + 1);
  }
  moving &= axis >> shift;
  hash->bits = moving | fixed;
}

constexpr uint64_t kLongBits = 0xaaaaaaaaaaaaaaaaULL;
constexpr uint64_t kLatBits = 0x5555555555555555ULL;

// The (uint64_t) cast redis-server applies to a score, defined for every
// double the way x86-64 evaluates it (out-of-range values are undefined in
// C, Redis gets the hardware's answer).
uint64_t ScoreToBits(double score) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (score < kTwo63) {
    if (score > -kTwo63) {
      return static_cast<uint64_t>(static_cast<int64_t>(score));
    }
    return uint64_t{1} << 63;
  }
  const double rest = score - kTwo63;
  if (rest < kTwo63) {
    return static_cast<uint64_t>(static_cast<int64_t>(rest)) ^
           (uint64_t{1} << 63);
  }
  return 0;  // +inf, NaN, >= 2^64: the "indefinite" value xor the top bit
}

// The circle's or the box's bounding box: min lon, min lat, max lon, max lat.
void BoundingBox(const GeoShape& shape, double bounds[4]) {
  const double longitude = shape.center.longitude;
  const double latitude = shape.center.latitude;
  const bool circle = shape.type == GeoShape::Type::kCircle;
  const double height =
      shape.conversion * (circle ? shape.radius : shape.height / 2);
  const double width =
      shape.conversion * (circle ? shape.radius : shape.width / 2);
  const double lat_delta = RadDeg(height / kEarthRadiusMeters);
  const double long_delta_top = RadDeg(width / kEarthRadiusMeters /
                                       std::cos(DegRad(latitude + lat_delta)));
  const double long_delta_bottom = RadDeg(
      width / kEarthRadiusMeters / std::cos(DegRad(latitude - lat_delta)));
  // The hemispheres widen in opposite directions.
  const bool southern = latitude < 0;
  bounds[0] =
      southern ? longitude - long_delta_bottom : longitude - long_delta_top;
  bounds[2] =
      southern ? longitude + long_delta_bottom : longitude + long_delta_top;
  bounds[1] = latitude - lat_delta;
  bounds[3] = latitude + lat_delta;
}

GeoArea DecodeWgs84(const GeoHashBits& hash) {
  return GeoHashDecode(kGeoLongRange, kGeoLatRange, hash).value_or(GeoArea{});
}

}  // namespace

std::optional<GeoHashBits> GeoHashEncode(const GeoRange& lon_range,
                                         const GeoRange& lat_range,
                                         double longitude, double latitude,
                                         int step) {
  if (step > 32 || step <= 0) return std::nullopt;
  if ((lat_range.min == 0 && lat_range.max == 0) ||
      (lon_range.min == 0 && lon_range.max == 0)) {
    return std::nullopt;
  }
  if (longitude > kGeoLongMax || longitude < kGeoLongMin ||
      latitude > kGeoLatMax || latitude < kGeoLatMin) {
    return std::nullopt;
  }
  if (latitude < lat_range.min || latitude > lat_range.max ||
      longitude < lon_range.min || longitude > lon_range.max) {
    return std::nullopt;
  }
  double lat_offset =
      (latitude - lat_range.min) / (lat_range.max - lat_range.min);
  double long_offset =
      (longitude - lon_range.min) / (lon_range.max - lon_range.min);
  // To fixed point with `step` bits (1.0 maps to 2^step, as in Redis).
  lat_offset *= static_cast<double>(uint64_t{1} << step);
  long_offset *= static_cast<double>(uint64_t{1} << step);
  GeoHashBits hash;
  hash.step = static_cast<uint8_t>(step);
  hash.bits = Interleave(static_cast<uint32_t>(lat_offset),
                         static_cast<uint32_t>(long_offset));
  return hash;
}

std::optional<GeoArea> GeoHashDecode(const GeoRange& lon_range,
                                     const GeoRange& lat_range,
                                     const GeoHashBits& hash) {
  if (hash.IsZero() || (lat_range.min == 0 && lat_range.max == 0) ||
      (lon_range.min == 0 && lon_range.max == 0)) {
    return std::nullopt;
  }
  GeoArea area;
  area.hash = hash;
  const uint32_t ilat = Squash(hash.bits);
  const uint32_t ilon = Squash(hash.bits >> 1);
  const double lat_scale = lat_range.max - lat_range.min;
  const double long_scale = lon_range.max - lon_range.min;
  const double cells = static_cast<double>(uint64_t{1} << hash.step);
  area.latitude.min = lat_range.min + (ilat * 1.0 / cells) * lat_scale;
  area.latitude.max =
      lat_range.min +
      (static_cast<uint32_t>(ilat + 1) * 1.0 / cells) * lat_scale;
  area.longitude.min = lon_range.min + (ilon * 1.0 / cells) * long_scale;
  area.longitude.max =
      lon_range.min +
      (static_cast<uint32_t>(ilon + 1) * 1.0 / cells) * long_scale;
  return area;
}

GeoPoint GeoAreaCenter(const GeoArea& area) {
  GeoPoint p;
  p.longitude = (area.longitude.min + area.longitude.max) / 2;
  if (p.longitude > kGeoLongMax) p.longitude = kGeoLongMax;
  if (p.longitude < kGeoLongMin) p.longitude = kGeoLongMin;
  p.latitude = (area.latitude.min + area.latitude.max) / 2;
  if (p.latitude > kGeoLatMax) p.latitude = kGeoLatMax;
  if (p.latitude < kGeoLatMin) p.latitude = kGeoLatMin;
  return p;
}

uint64_t GeoHashAlign52(const GeoHashBits& hash) {
  return hash.bits << (52 - hash.step * 2);
}

GeoNeighbors GeoHashNeighbors(const GeoHashBits& hash) {
  GeoNeighbors n;
  auto moved = [&](int dx, int dy) {
    GeoHashBits h = hash;
    Move(&h, dx, kLongBits);
    Move(&h, dy, kLatBits);
    return h;
  };
  n.east = moved(1, 0);
  n.west = moved(-1, 0);
  n.south = moved(0, -1);
  n.north = moved(0, 1);
  n.north_west = moved(-1, 1);
  n.north_east = moved(1, 1);
  n.south_east = moved(1, -1);
  n.south_west = moved(-1, -1);
  return n;
}

uint64_t GeoScore(double longitude, double latitude) {
  std::optional<GeoHashBits> hash = GeoHashEncode(
      kGeoLongRange, kGeoLatRange, longitude, latitude, kGeoStepMax);
  return hash ? GeoHashAlign52(*hash) : 0;
}

std::optional<GeoPoint> GeoScoreToPoint(double score) {
  GeoHashBits hash{ScoreToBits(score), kGeoStepMax};
  std::optional<GeoArea> area =
      GeoHashDecode(kGeoLongRange, kGeoLatRange, hash);
  if (!area) return std::nullopt;
  return GeoAreaCenter(*area);
}

std::string GeoHashString(const GeoPoint& point) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  std::optional<GeoHashBits> hash =
      GeoHashEncode(GeoRange{-180, 180}, GeoRange{-90, 90}, point.longitude,
                    point.latitude, kGeoStepMax);
  const uint64_t bits = hash ? hash->bits : 0;
  std::string out(11, '0');
  // 52 bits make ten characters; the eleventh is always 0.
  for (int i = 0; i < 10; ++i) {
    out[i] = kAlphabet[(bits >> (52 - (i + 1) * 5)) & 0x1f];
  }
  return out;
}

double GeoLatDistance(double lat1, double lat2) {
  return kEarthRadiusMeters * std::fabs(DegRad(lat2) - DegRad(lat1));
}

double GeoDistance(double lon1, double lat1, double lon2, double lat2) {
  const double lon1r = DegRad(lon1);
  const double lon2r = DegRad(lon2);
  const double v = std::sin((lon2r - lon1r) / 2);
  // Same meridian: the cheaper formula (and Redis' exact result).
  if (v == 0.0) return GeoLatDistance(lat1, lat2);
  const double lat1r = DegRad(lat1);
  const double lat2r = DegRad(lat2);
  const double u = std::sin((lat2r - lat1r) / 2);
  const double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadiusMeters * std::asin(std::sqrt(a));
}

int GeoEstimateSteps(double range_meters, double latitude) {
  if (range_meters == 0) return kGeoStepMax;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    ++step;
  }
  step -= 2;  // so that the range fits in most cases
  // Cells narrow towards the poles.
  if (latitude > 66 || latitude < -66) {
    --step;
    if (latitude > 80 || latitude < -80) --step;
  }
  if (step < 1) step = 1;
  if (step > kGeoStepMax) step = kGeoStepMax;
  return step;
}

bool GeoWithinShape(const GeoShape& shape, double score, GeoPoint* point,
                    double* distance_m) {
  std::optional<GeoPoint> p = GeoScoreToPoint(score);
  if (!p) return false;
  *point = *p;
  const GeoPoint& c = shape.center;
  if (shape.type == GeoShape::Type::kCircle) {
    *distance_m =
        GeoDistance(c.longitude, c.latitude, p->longitude, p->latitude);
    return *distance_m <= shape.radius * shape.conversion;
  }
  // The latitude test is the cheaper one, so it goes first.
  const double width_m = shape.width * shape.conversion;
  const double height_m = shape.height * shape.conversion;
  if (GeoLatDistance(p->latitude, c.latitude) > height_m / 2) return false;
  if (GeoDistance(p->longitude, p->latitude, c.longitude, p->latitude) >
      width_m / 2) {
    return false;
  }
  *distance_m = GeoDistance(c.longitude, c.latitude, p->longitude, p->latitude);
  return true;
}

std::vector<GeoScoreRange> GeoSearchRanges(const GeoShape& shape) {
  double bounds[4];
  BoundingBox(shape, bounds);
  const double min_lon = bounds[0], min_lat = bounds[1];
  const double max_lon = bounds[2], max_lat = bounds[3];
  const GeoPoint& c = shape.center;
  // A box is covered like the circle through its corners.
  double radius_m = shape.type == GeoShape::Type::kCircle
                        ? shape.radius
                        : std::sqrt((shape.width / 2) * (shape.width / 2) +
                                    (shape.height / 2) * (shape.height / 2));
  radius_m *= shape.conversion;
  int steps = GeoEstimateSteps(radius_m, c.latitude);

  auto encode = [&](int step) {
    return GeoHashEncode(kGeoLongRange, kGeoLatRange, c.longitude, c.latitude,
                         step)
        .value_or(GeoHashBits{});
  };
  GeoHashBits hash = encode(steps);
  GeoNeighbors n = GeoHashNeighbors(hash);
  GeoArea area = DecodeWgs84(hash);
  // Near the edge of its cell the estimated step may be too fine for the
  // neighbours to cover the whole area: one step coarser then.
  const GeoArea north = DecodeWgs84(n.north);
  const GeoArea south = DecodeWgs84(n.south);
  const GeoArea east = DecodeWgs84(n.east);
  const GeoArea west = DecodeWgs84(n.west);
  const bool decrease =
      north.latitude.max < max_lat || south.latitude.min > min_lat ||
      east.longitude.max < max_lon || west.longitude.min > min_lon;
  if (steps > 1 && decrease) {
    --steps;
    hash = encode(steps);
    n = GeoHashNeighbors(hash);
    area = DecodeWgs84(hash);
  }
  // Drop the neighbours beyond the bounding box.
  if (steps >= 2) {
    if (area.latitude.min < min_lat) {
      n.south = n.south_west = n.south_east = GeoHashBits{};
    }
    if (area.latitude.max > max_lat) {
      n.north = n.north_east = n.north_west = GeoHashBits{};
    }
    if (area.longitude.min < min_lon) {
      n.west = n.south_west = n.north_west = GeoHashBits{};
    }
    if (area.longitude.max > max_lon) {
      n.east = n.south_east = n.north_east = GeoHashBits{};
    }
  }
  const GeoHashBits cells[9] = {hash,         n.north,      n.south,
                                n.east,       n.west,       n.north_east,
                                n.north_west, n.south_east, n.south_west};
  std::vector<GeoScoreRange> ranges;
  size_t last = 0;  // 0: nothing but (maybe) the centre scanned yet
  for (size_t i = 0; i < 9; ++i) {
    if (cells[i].IsZero()) continue;
    // With huge radii adjacent neighbours can be the same cell.
    if (last != 0 && cells[i] == cells[last]) continue;
    GeoHashBits next = cells[i];
    ++next.bits;
    ranges.push_back({GeoHashAlign52(cells[i]), GeoHashAlign52(next)});
    last = i;
  }
  return ranges;
}

}  // namespace reborn::qdb
