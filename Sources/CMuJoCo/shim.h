// MuJoCo's public C API. The headers come from the venv's `mujoco-core` wheel, linked into
// `.native/include` by scripts/setup.sh (see DESIGN.md, "Native dependencies").
#include <mujoco/mujoco.h>
