/*
 * Puts OpenSC's PKCS#11 spy in front of a module for a PKCS#11 wrapper that probes
 * C_GetInterfaceList: the spy of OpenSC 0.23 crashes in C_GetInterfaceList when the module behind
 * it is PKCS#11 2.40 (SoftHSM2 2.6.1). This library exports only C_GetFunctionList, so the wrapper
 * falls back to it, and forwards that to the spy (PKCS11SPY_SHIM_TARGET names the spy library).
 * DomainJoinIT compiles it with gcc at test time.
 */
#include <dlfcn.h>
#include <stdlib.h>

typedef unsigned long CK_RV;
typedef CK_RV (*get_function_list_t)(void **);

CK_RV C_GetFunctionList(void **list) {
  const char *target = getenv("PKCS11SPY_SHIM_TARGET");
  void *spy = dlopen(target, RTLD_NOW | RTLD_LOCAL);
  if (spy == NULL) {
    return 0x30; /* CKR_DEVICE_ERROR */
  }
  get_function_list_t get = (get_function_list_t) dlsym(spy, "C_GetFunctionList");
  return get == NULL ? 0x30 : get(list);
}
