package io.p11kms.hsm.session;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import iaik.pkcs.pkcs11.wrapper.CK_ATTRIBUTE;
import iaik.pkcs.pkcs11.wrapper.PKCS11Implementation;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Constants.Category;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;

/**
 * {@code C_UnwrapKey} with a fixed template, and {@code C_EncryptInit} and {@code C_DecryptInit}
 * for AES-GCM, called straight into the session's PKCS#11 library through JNA, their arguments laid
 * out in native memory by this class, instead of through the wrapper's JNI.
 *
 * <p>Why: the wrapper's native code converts each template attribute and each mechanism parameter
 * with sixteen JNI class lookups or more, on every call. For the 15-attribute template of a backing
 * key cache miss that is about a third of the {@code C_UnwrapKey} (tens of microseconds); here the
 * template is laid out once per library instance and reused. The call is the same PKCS#11 call on
 * the same session of the same loaded library instance (found by its path among the libraries the
 * process has loaded, never loaded anew), on the caller's thread: deadlines, the {@link
 * io.p11kms.hsm.TokenCallInterceptor} seam (the caller's {@link Calls#before}) and the error
 * mapping (the wrapper's own conversion of the return code into a {@link PKCS11Exception}) are
 * unchanged.
 *
 * <p>Only on 64-bit Linux, whose {@code CK_ATTRIBUTE} and {@code CK_FUNCTION_LIST} layouts are the
 * compiler's natural ones with 8-byte {@code CK_ULONG}s; anywhere the library cannot be found this
 * way (or JNA's native part does not load), the calls go through the wrapper as before.
 */
public final class DirectCalls {
  private static final Logger LOG = LoggerFactory.getLogger(DirectCalls.class);

  /** Indexes in {@code CK_FUNCTION_LIST}, after its {@code CK_VERSION}. */
  private static final int C_ENCRYPT_INIT_INDEX = 29;

  private static final int C_DECRYPT_INIT_INDEX = 33;

  private static final int C_UNWRAP_KEY_INDEX = 61;

  /**
   * {@code dlopen}'s RTLD_LAZY | RTLD_NOLOAD on Linux: the instance already loaded from that path,
   * or none, and without RTLD_GLOBAL: a library copy made global would lend its symbols to the next
   * copy loaded ({@link StandbyLibrary}).
   */
  static final int ALREADY_LOADED = 0x1 | 0x4;

  // Sizes on LP64 Linux, the only platform called directly: CK_ULONG and pointers of 8 bytes, and
  // no JNA class touched before a library is found (JNA's native part may fail to load).
  private static final int ULONG = 8;
  private static final int POINTER = 8;
  private static final int ATTRIBUTE_SIZE = ULONG + POINTER + ULONG;
  private static final int MECHANISM_SIZE = ULONG + POINTER + ULONG;
  private static final int GCM_PARAMS_SIZE = 2 * POINTER + 4 * ULONG;

  /**
   * The GCM arguments' block each thread keeps and reuses when they fit: a {@link Memory} made per
   * call costs JNA two passes through one process-wide lock (its cleaner's register and remove), on
   * every Encrypt and Decrypt. The library reads the block during the call only (PKCS#11: the
   * mechanism is the caller's again when the call returns), so the next call may rewrite it.
   */
  private static final int KEPT_GCM_BLOCK_BYTES = 4096;

  private static final ThreadLocal<Memory> KEPT_GCM_BLOCK =
      ThreadLocal.withInitial(() -> new Memory(KEPT_GCM_BLOCK_BYTES));

  // Per library file path; empty where the library cannot be called directly.
  private static final Map<String, Optional<LoadedLibrary>> LIBRARIES = new ConcurrentHashMap<>();

  private DirectCalls() {}

  /**
   * A template passed to {@code C_UnwrapKey} many times: held as given, laid out in native memory
   * once per library instance. Its values must be booleans, numbers or arrays of numbers, and it
   * must not change once made.
   */
  public static final class Template {
    private final AttributeVector attributes;
    private final Map<LoadedLibrary, NativeTemplate> laidOut = new ConcurrentHashMap<>();

    public Template(AttributeVector attributes) {
      this.attributes = attributes;
    }

    /** The template as given, for the wrapper's path. */
    public AttributeVector attributes() {
      return attributes;
    }

    NativeTemplate in(LoadedLibrary library) {
      return laidOut.computeIfAbsent(library, l -> NativeTemplate.of(attributes, l.module));
    }
  }

  /**
   * {@link Session#unwrapKey}: unwraps {@code wrapped} under {@code unwrappingKey} with {@code
   * mechanism} (one without parameters) into a new object of {@code template}.
   */
  public static long unwrapKey(
      Session session, long mechanism, long unwrappingKey, byte[] wrapped, Template template)
      throws PKCS11Exception {
    LoadedLibrary library = libraryOf(session);
    if (library == null) {
      return session.unwrapKey(
          new Mechanism(mechanism), unwrappingKey, wrapped, template.attributes());
    }
    NativeTemplate nativeTemplate = template.in(library);
    long[] handle = new long[1];
    library.check(
        library.unwrapKey.invokeLong(
            new Object[] {
              session.getSessionHandle(),
              library.mechanism(mechanism),
              unwrappingKey,
              wrapped,
              (long) wrapped.length,
              nativeTemplate.attributes,
              (long) nativeTemplate.count,
              handle
            }));
    return handle[0];
  }

  /**
   * {@link Session#encryptInit} with CKM_AES_GCM: {@code iv}, {@code aad} (empty for none) and a
   * tag of {@code tagBits}.
   */
  public static void encryptInitGcm(Session session, long key, byte[] iv, byte[] aad, int tagBits)
      throws PKCS11Exception {
    LoadedLibrary library = libraryOf(session);
    if (library == null) {
      session.encryptInit(gcm(iv, aad, tagBits), key);
    } else {
      initGcm(library, library.encryptInit, session, key, iv, aad, tagBits);
    }
  }

  /** {@link Session#decryptInit} with CKM_AES_GCM, as {@link #encryptInitGcm}. */
  public static void decryptInitGcm(Session session, long key, byte[] iv, byte[] aad, int tagBits)
      throws PKCS11Exception {
    LoadedLibrary library = libraryOf(session);
    if (library == null) {
      session.decryptInit(gcm(iv, aad, tagBits), key);
    } else {
      initGcm(library, library.decryptInit, session, key, iv, aad, tagBits);
    }
  }

  private static Mechanism gcm(byte[] iv, byte[] aad, int tagBits) {
    return new Mechanism(PKCS11Constants.CKM_AES_GCM, new GCM_PARAMS(iv, aad, tagBits));
  }

  /**
   * {@code init} (C_EncryptInit or C_DecryptInit) with a CK_MECHANISM for CKM_AES_GCM, its
   * CK_GCM_PARAMS ({@code ulIvBits} set as the wrapper sets it: the IV's length in bits), the IV
   * and the AAD in one block of native memory: the thread's kept block when they fit, else one made
   * for the call and freed when it returns.
   */
  private static void initGcm(
      LoadedLibrary library,
      Function init,
      Session session,
      long key,
      byte[] iv,
      byte[] aad,
      int tagBits)
      throws PKCS11Exception {
    int ivAt = MECHANISM_SIZE + GCM_PARAMS_SIZE;
    int aadAt = ivAt + iv.length;
    long size = aadAt + Math.max(aad.length, 1);
    Memory mech = size <= KEPT_GCM_BLOCK_BYTES ? KEPT_GCM_BLOCK.get() : new Memory(size);
    try {
      Pointer params = mech.share(MECHANISM_SIZE);
      mech.setLong(0, library.gcm);
      mech.setPointer(ULONG, params);
      mech.setLong(ULONG + POINTER, GCM_PARAMS_SIZE);
      mech.write(ivAt, iv, 0, iv.length);
      mech.write(aadAt, aad, 0, aad.length);
      // CK_GCM_PARAMS: pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits.
      int at = 0;
      params.setPointer(at, mech.share(ivAt));
      at += POINTER;
      params.setLong(at, iv.length);
      at += ULONG;
      params.setLong(at, iv.length * 8L);
      at += ULONG;
      params.setPointer(at, aad.length == 0 ? Pointer.NULL : mech.share(aadAt));
      at += POINTER;
      params.setLong(at, aad.length);
      at += ULONG;
      params.setLong(at, tagBits);
      library.check(init.invokeLong(new Object[] {session.getSessionHandle(), mech, key}));
    } finally {
      if (mech.size() > KEPT_GCM_BLOCK_BYTES) {
        mech.close();
      }
    }
  }

  static LoadedLibrary libraryOf(Session session) {
    PKCS11Module module = session.getModule();
    if (module == null || !(module.getPKCS11Module() instanceof PKCS11Implementation loaded)) {
      return null;
    }
    String path = loaded.getPkcs11ModulePath();
    Optional<LoadedLibrary> library = LIBRARIES.get(path);
    if (library == null) {
      library =
          LIBRARIES.computeIfAbsent(path, p -> Optional.ofNullable(LoadedLibrary.find(p, module)));
    }
    return library.orElse(null);
  }

  /** One loaded library instance's functions. */
  static final class LoadedLibrary {
    final PKCS11Module module;
    final Function unwrapKey;
    final Function encryptInit;
    final Function decryptInit;
    // CKM_AES_GCM as this library's vendor configuration names it.
    final long gcm;
    // A CK_MECHANISM without parameters per mechanism, read by the library, never written.
    private final Map<Long, Memory> mechanisms = new ConcurrentHashMap<>();
    // Keeps the library's handle open while its functions are called.
    private final NativeLibrary handle;

    private LoadedLibrary(PKCS11Module module, NativeLibrary handle, Pointer functionList) {
      this.module = module;
      this.handle = handle;
      this.unwrapKey = function(functionList, C_UNWRAP_KEY_INDEX);
      this.encryptInit = function(functionList, C_ENCRYPT_INIT_INDEX);
      this.decryptInit = function(functionList, C_DECRYPT_INIT_INDEX);
      this.gcm = module.genericToVendorCode(Category.CKM, PKCS11Constants.CKM_AES_GCM);
    }

    /** The library already loaded from {@code path}, or null if it cannot be called directly. */
    static LoadedLibrary find(String path, PKCS11Module module) {
      try {
        if (!Platform.isLinux() || Native.LONG_SIZE != ULONG || Native.POINTER_SIZE != POINTER) {
          return null;
        }
        NativeLibrary handle =
            NativeLibrary.getInstance(path, Map.of(Library.OPTION_OPEN_FLAGS, ALREADY_LOADED));
        PointerByReference list = new PointerByReference();
        long rv = handle.getFunction("C_GetFunctionList").invokeLong(new Object[] {list});
        Pointer functionList = list.getValue();
        if (rv != PKCS11Constants.CKR_OK || functionList == null) {
          return null;
        }
        return new LoadedLibrary(module, handle, functionList);
      } catch (LinkageError | RuntimeException e) {
        LOG.info("PKCS#11 calls go through the wrapper only: {}", e.getClass().getSimpleName());
        return null;
      }
    }

    private static Function function(Pointer functionList, int index) {
      // CK_FUNCTION_LIST: a CK_VERSION (two bytes, padded to a pointer's alignment), then pointers.
      return Function.getFunction(
          functionList.getPointer(POINTER * (1L + index)), Function.C_CONVENTION);
    }

    /** {@code mechanism} (a generic code) as a CK_MECHANISM without parameters. */
    Pointer mechanism(long mechanism) {
      return mechanisms.computeIfAbsent(
          mechanism,
          m -> {
            Memory mech = new Memory(MECHANISM_SIZE);
            mech.setLong(0, module.genericToVendorCode(Category.CKM, m));
            mech.setPointer(ULONG, Pointer.NULL);
            mech.setLong(ULONG + POINTER, 0);
            return mech;
          });
    }

    void check(long rv) throws PKCS11Exception {
      if (rv != PKCS11Constants.CKR_OK) {
        throw module.convertException(new iaik.pkcs.pkcs11.wrapper.PKCS11Exception(rv));
      }
    }
  }

  /** A template laid out as a {@code CK_ATTRIBUTE} array in native memory, values after it. */
  static final class NativeTemplate {
    final Memory attributes;
    final int count;

    private NativeTemplate(Memory attributes, int count) {
      this.attributes = attributes;
      this.count = count;
    }

    static NativeTemplate of(AttributeVector template, PKCS11Module module) {
      CK_ATTRIBUTE[] all = template.toCkAttributes();
      int count = 0;
      long valueBytes = 0;
      for (CK_ATTRIBUTE attribute : all) {
        if (attribute.pValue != null) {
          count++;
          valueBytes += align(valueLength(attribute.pValue));
        }
      }
      Memory memory = new Memory((long) count * ATTRIBUTE_SIZE + Math.max(valueBytes, 1));
      long valueAt = (long) count * ATTRIBUTE_SIZE;
      int i = 0;
      for (CK_ATTRIBUTE attribute : all) {
        if (attribute.pValue == null) {
          continue;
        }
        Object value = attribute.pValue;
        if (attribute.type == PKCS11Constants.CKA_KEY_TYPE) {
          value = module.genericToVendorCode(Category.CKK, (Long) value);
        }
        int length = valueLength(value);
        writeValue(memory, valueAt, value);
        long at = (long) i * ATTRIBUTE_SIZE;
        memory.setLong(at, attribute.type);
        memory.setPointer(at + ULONG, memory.share(valueAt));
        memory.setLong(at + ULONG + POINTER, length);
        valueAt += align(length);
        i++;
      }
      return new NativeTemplate(memory, count);
    }

    private static int valueLength(Object value) {
      if (value instanceof Boolean) {
        return 1;
      }
      if (value instanceof Long) {
        return ULONG;
      }
      if (value instanceof long[] values) {
        return values.length * ULONG;
      }
      throw new IllegalArgumentException(
          "a direct template holds booleans, numbers and arrays of numbers, not "
              + value.getClass().getSimpleName());
    }

    private static void writeValue(Memory memory, long at, Object value) {
      if (value instanceof Boolean b) {
        memory.setByte(at, (byte) (b ? 1 : 0));
      } else if (value instanceof Long l) {
        memory.setLong(at, l);
      } else {
        long[] values = (long[]) value;
        for (int k = 0; k < values.length; k++) {
          memory.setLong(at + (long) k * ULONG, values[k]);
        }
      }
    }

    private static long align(long length) {
      return (length + 7) & ~7L;
    }
  }
}
