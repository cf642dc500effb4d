/* The in-memory profile is its JSON document: one representation for
 * building, saving, loading and querying. Validated before use. */
#ifndef VIGIL_PROFILE_MODEL_H
#define VIGIL_PROFILE_MODEL_H

#include <jansson.h>

#include "vigil/profile.h"

struct vprof {
    json_t *root;
};

/* Check that @root has the vigil-profile v1 shape that the query
 * functions rely on. */
int vprof_model_validate(const json_t *root, struct vprof_diag *d);

#endif
