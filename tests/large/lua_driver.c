/* lua_driver: a minimal stand-alone Lua interpreter for the Lua coverage
 * build (tests/large/build.sh). The lua-src crate ships the Lua library
 * sources but not lua.c, so this stands in for the `lua` program.
 *
 *   lua_driver SCRIPT.lua [ARG...]
 *
 * Opens the standard libraries, sets the global `arg` table as lua.c does,
 * runs SCRIPT and reports an uncaught error with a traceback (exit status 1).
 */
#include <stdio.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

static int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT.lua [ARG...]\n", argv[0]);
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "lua_driver: cannot create state\n");
        return 1;
    }
    luaL_openlibs(L);
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, traceback);
    int status = luaL_loadfile(L, argv[1]);
    if (status == LUA_OK) status = lua_pcall(L, 0, 0, -2);
    if (status != LUA_OK) fprintf(stderr, "lua_driver: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
