#include "scripting/lua_convert.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reborn/reply.h"
#include "resp/reply_parser.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace reborn::scripting {

// Pushes Redis' error table {err="CODE message"} for `text` in either
// "-CODE message" or "message" form (luaPushErrorBuff).
void PushErrorTable(lua_State* lua, std::string_view text) {
  std::string code = "ERR";
  std::string msg;
  if (!text.empty() && text[0] == '-') {
    size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      msg = std::string(text.substr(1));
    } else {
      code = std::string(text.substr(1, space - 1));
      msg = std::string(text.substr(space + 1));
    }
  } else {
    msg = std::string(text);
  }
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) {
    msg.pop_back();
  }
  while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) {
    msg.erase(msg.begin());
  }
  std::string final_msg = absl::StrCat(code, " ", msg);
  lua_newtable(lua);
  lua_pushstring(lua, "err");
  lua_pushlstring(lua, final_msg.data(), final_msg.size());
  lua_settable(lua, -3);
}

namespace {

void PushReplyValue(lua_State* lua, const Reply& r) {
  lua_checkstack(lua, 4);
  switch (r.type) {
    case Reply::Type::kStatus:
      lua_newtable(lua);
      lua_pushstring(lua, "ok");
      lua_pushlstring(lua, r.str.data(), r.str.size());
      lua_settable(lua, -3);
      return;
    case Reply::Type::kError:
      PushErrorTable(lua, absl::StrCat("-", r.str));
      return;
    case Reply::Type::kInteger:
      lua_pushnumber(lua, static_cast<lua_Number>(r.integer));
      return;
    case Reply::Type::kString:
      lua_pushlstring(lua, r.str.data(), r.str.size());
      return;
    case Reply::Type::kNil:
      lua_pushnil(lua);  // RESP3 null; RESP2 nils are handled by the caller
      return;
    case Reply::Type::kBool:
      lua_pushboolean(lua, r.integer != 0);
      return;
    case Reply::Type::kDouble:
      lua_newtable(lua);
      lua_pushstring(lua, "double");
      lua_pushnumber(lua, std::strtod(r.str.c_str(), nullptr));
      lua_settable(lua, -3);
      return;
    case Reply::Type::kMap:
      lua_newtable(lua);
      lua_pushstring(lua, "map");
      lua_newtable(lua);
      for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        PushReplyValue(lua, r.elements[i]);
        PushReplyValue(lua, r.elements[i + 1]);
        lua_settable(lua, -3);
      }
      lua_settable(lua, -3);
      return;
    case Reply::Type::kSet:
      lua_newtable(lua);
      lua_pushstring(lua, "set");
      lua_newtable(lua);
      for (const Reply& e : r.elements) {
        PushReplyValue(lua, e);
        lua_pushboolean(lua, 1);
        lua_settable(lua, -3);
      }
      lua_settable(lua, -3);
      return;
    case Reply::Type::kArray:
    case Reply::Type::kPush:
      lua_newtable(lua);
      for (size_t i = 0; i < r.elements.size(); ++i) {
        lua_pushnumber(lua, static_cast<lua_Number>(i + 1));
        PushReplyValue(lua, r.elements[i]);
        lua_settable(lua, -3);
      }
      return;
  }
}

}  // namespace

bool PushReply(lua_State* lua, std::string_view encoded, int protocol) {
  // Redis turns RESP2 nulls into false and RESP3's null into nil.
  resp::ReplyParser parser;
  size_t consumed = 0;
  Reply reply;
  if (parser.Parse(encoded, &consumed, &reply) !=
      resp::ReplyParser::Result::kReply) {
    return false;
  }
  if (protocol == 2) {
    // Replace every kNil by false (a Bool 0).
    std::vector<Reply*> stack = {&reply};
    while (!stack.empty()) {
      Reply* r = stack.back();
      stack.pop_back();
      if (r->type == Reply::Type::kNil) {
        r->type = Reply::Type::kBool;
        r->integer = 0;
      }
      for (Reply& e : r->elements) stack.push_back(&e);
    }
  }
  PushReplyValue(lua, reply);
  return true;
}

void LuaToReply(lua_State* lua, resp::ReplyWriter& reply, int script_protocol) {
  if (!lua_checkstack(lua, 4)) {
    reply.Error("ERR reached lua stack limit");
    lua_pop(lua, 1);
    return;
  }
  switch (lua_type(lua, -1)) {
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(lua, -1, &len);
      reply.Bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_protocol == 2) {
        if (lua_toboolean(lua, -1)) {
          reply.Integer(1);
        } else {
          reply.Null();
        }
      } else {
        reply.Bool(lua_toboolean(lua, -1));
      }
      break;
    case LUA_TNUMBER:
      reply.Integer(static_cast<int64_t>(lua_tonumber(lua, -1)));
      break;
    case LUA_TTABLE: {
      lua_pushstring(lua, "err");
      lua_rawget(lua, -2);
      if (lua_type(lua, -1) == LUA_TSTRING) {
        std::string msg = lua_tostring(lua, -1);
        lua_pop(lua, 2);
        reply.Error(msg);
        return;
      }
      lua_pop(lua, 1);
      lua_pushstring(lua, "ok");
      lua_rawget(lua, -2);
      if (lua_type(lua, -1) == LUA_TSTRING) {
        std::string msg = lua_tostring(lua, -1);
        for (char& c : msg) {
          if (c == '\r' || c == '\n') c = ' ';
        }
        lua_pop(lua, 2);
        reply.SimpleString(msg);
        return;
      }
      lua_pop(lua, 1);
      lua_pushstring(lua, "double");
      lua_rawget(lua, -2);
      if (lua_type(lua, -1) == LUA_TNUMBER) {
        double d = lua_tonumber(lua, -1);
        lua_pop(lua, 2);
        reply.Double(d);
        return;
      }
      lua_pop(lua, 1);
      lua_pushstring(lua, "big_number");
      lua_rawget(lua, -2);
      if (lua_type(lua, -1) == LUA_TSTRING) {
        std::string num = lua_tostring(lua, -1);
        for (char& c : num) {
          if (c == '\r' || c == '\n') c = ' ';
        }
        lua_pop(lua, 2);
        if (reply.protocol() >= 3) {
          reply.Raw(absl::StrCat("(", num, "\r\n"));
        } else {
          reply.Bulk(num);
        }
        return;
      }
      lua_pop(lua, 1);
      lua_pushstring(lua, "map");
      lua_rawget(lua, -2);
      if (lua_type(lua, -1) == LUA_TTABLE) {
        std::string body;
        resp::ReplyWriter inner(&body, reply.protocol());
        size_t n = 0;
        lua_pushnil(lua);
        while (lua_next(lua, -2)) {
          lua_pushvalue(lua, -2);
          LuaToReply(lua, inner, script_protocol);
          LuaToReply(lua, inner, script_protocol);
          ++n;
        }
        lua_pop(lua, 2);
        if (reply.protocol() >= 3) {
          reply.MapHeader(n);
        } else {
          reply.ArrayHeader(n * 2);
        }
        reply.Raw(body);
        return;
      }
      lua_pop(lua, 1);
      lua_pushstring(lua, "set");
      lua_rawget(lua, -2);
      if (lua_type(lua, -1) == LUA_TTABLE) {
        std::string body;
        resp::ReplyWriter inner(&body, reply.protocol());
        size_t n = 0;
        lua_pushnil(lua);
        while (lua_next(lua, -2)) {
          lua_pop(lua, 1);
          lua_pushvalue(lua, -1);
          LuaToReply(lua, inner, script_protocol);
          ++n;
        }
        lua_pop(lua, 2);
        reply.SetHeader(n);
        reply.Raw(body);
        return;
      }
      lua_pop(lua, 1);
      // An array: elements 1..n up to the first nil.
      std::string body;
      resp::ReplyWriter inner(&body, reply.protocol());
      size_t n = 0;
      for (int j = 1;; ++j) {
        lua_rawgeti(lua, -1, j);
        if (lua_isnil(lua, -1)) {
          lua_pop(lua, 1);
          break;
        }
        LuaToReply(lua, inner, script_protocol);
        ++n;
      }
      lua_pop(lua, 1);
      reply.ArrayHeader(n);
      reply.Raw(body);
      return;
    }
    default:
      reply.Null();
      break;
  }
  lua_pop(lua, 1);
}

}  // namespace reborn::scripting
