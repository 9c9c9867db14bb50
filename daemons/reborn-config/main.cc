// reborn-config: topology administration and the REST API for the dashboard.
// All logic lives in libreborn (RunConfigTool).

#include "reborn/config_tool.h"

int main(int argc, char** argv) { return reborn::RunConfigTool(argc, argv); }
