#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Geohash math for the GEO commands, with the numbers redis-server 7.0 uses
// (geohash.c, geohash_helper.c) so that scores, positions and distances agree
// with Redis to the last digit. Pure functions: no storage, no state.
//
// A position is stored as a sorted-set score: its 26-step geohash (26 bits of
// longitude interleaved with 26 of latitude, latitude in the even bits) as a
// 52-bit integer. Latitudes are limited to the Web Mercator range
// (+-85.05112878), as in Redis.
namespace reborn::qdb {

inline constexpr double kGeoLatMin = -85.05112878;
inline constexpr double kGeoLatMax = 85.05112878;
inline constexpr double kGeoLongMin = -180;
inline constexpr double kGeoLongMax = 180;
inline constexpr int kGeoStepMax = 26;  // 26 * 2 = 52 bits
// Redis' "quadratic mean radius for WGS-84".
inline constexpr double kEarthRadiusMeters = 6372797.560856;

struct GeoHashBits {
  uint64_t bits = 0;
  uint8_t step = 0;
  // Redis' HASHISZERO: the "no box" value of a cleared neighbour.
  bool IsZero() const { return bits == 0 && step == 0; }
  bool operator==(const GeoHashBits&) const = default;
};

struct GeoRange {
  double min = 0, max = 0;
};

struct GeoArea {
  GeoHashBits hash;
  GeoRange longitude, latitude;
};

struct GeoPoint {
  double longitude = 0, latitude = 0;
};

struct GeoNeighbors {
  GeoHashBits north, east, west, south;
  GeoHashBits north_east, south_east, north_west, south_west;
};

// The WGS84 / Web Mercator ranges every stored position is encoded in.
inline constexpr GeoRange kGeoLongRange{kGeoLongMin, kGeoLongMax};
inline constexpr GeoRange kGeoLatRange{kGeoLatMin, kGeoLatMax};

// The `step`-bit-per-axis geohash of (lon, lat) within the given ranges;
// nullopt when step is not 1..32 or the point is outside the ranges or the
// WGS84 limits.
std::optional<GeoHashBits> GeoHashEncode(const GeoRange& lon_range,
                                         const GeoRange& lat_range,
                                         double longitude, double latitude,
                                         int step);
// The cell a hash stands for; nullopt for the zero hash.
std::optional<GeoArea> GeoHashDecode(const GeoRange& lon_range,
                                     const GeoRange& lat_range,
                                     const GeoHashBits& hash);
// The centre of the cell, clamped to the WGS84 limits.
GeoPoint GeoAreaCenter(const GeoArea& area);
// The hash shifted left to 52 bits (the score layout).
uint64_t GeoHashAlign52(const GeoHashBits& hash);
// The eight cells around `hash` at the same step.
GeoNeighbors GeoHashNeighbors(const GeoHashBits& hash);

// The score GEOADD stores for a valid position.
uint64_t GeoScore(double longitude, double latitude);
// The position a score stands for (decodeGeohash), nullopt if it cannot be
// decoded.
std::optional<GeoPoint> GeoScoreToPoint(double score);
// The 11-character base32 geohash GEOHASH prints: the position re-encoded
// with the standard latitude range (+-90); the last character is always '0'.
std::string GeoHashString(const GeoPoint& point);

// Haversine distance in meters between two positions, as Redis computes it.
double GeoDistance(double lon1, double lat1, double lon2, double lat2);
// The distance along a meridian between two latitudes.
double GeoLatDistance(double lat1, double lat2);
// The geohash step whose cells are about `range_meters` wide at `latitude`.
int GeoEstimateSteps(double range_meters, double latitude);

// A GEOSEARCH area: a circle (radius) or an axis-aligned box (width x
// height) around `center`; sizes are in the user's unit, `conversion` is
// meters per unit.
struct GeoShape {
  enum class Type { kCircle, kBox };
  Type type = Type::kCircle;
  GeoPoint center;
  double conversion = 1;
  double radius = 0;
  double width = 0, height = 0;
};

// Whether the position stored as `score` lies within `shape`; on success
// fills its position and its distance from the centre in meters.
bool GeoWithinShape(const GeoShape& shape, double score, GeoPoint* point,
                    double* distance_m);

// A half-open score range [min, max) holding one geohash cell.
struct GeoScoreRange {
  uint64_t min = 0, max = 0;
  bool operator==(const GeoScoreRange&) const = default;
};

// The score ranges to scan for `shape`, in Redis' order (the centre cell,
// then N, S, E, W, NE, NW, SE, SW), without the cells that cannot hold a
// match and without a cell equal to the one scanned just before it. Cells
// may still repeat (huge radii); Redis then reports a point twice, and so do
// we.
std::vector<GeoScoreRange> GeoSearchRanges(const GeoShape& shape);

}  // namespace reborn::qdb
