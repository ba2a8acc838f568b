package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.session.Pkcs11Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/** The CKR-to-exception table, one row per code that matters. */
class Pkcs11ErrorsTest {

  private static PKCS11Exception ckr(String name) {
    return new PKCS11Exception(PKCS11Constants.ckrNameToCode(name));
  }

  @ParameterizedTest
  @CsvSource({
    "CKR_DEVICE_ERROR, HsmUnavailableException",
    "CKR_DEVICE_REMOVED, HsmUnavailableException",
    "CKR_TOKEN_NOT_PRESENT, HsmUnavailableException",
    "CKR_SESSION_HANDLE_INVALID, HsmUnavailableException",
    "CKR_SESSION_CLOSED, HsmUnavailableException",
    "CKR_SESSION_READ_ONLY, HsmUnavailableException",
    "CKR_CRYPTOKI_NOT_INITIALIZED, HsmUnavailableException",
    "CKR_GENERAL_ERROR, HsmException",
    "CKR_KEY_HANDLE_INVALID, HsmException",
    "CKR_TEMPLATE_INCONSISTENT, HsmException",
  })
  void map_givesTheTypeAndNamesTheOperationAndCode(String code, String type) {
    HsmException e = Pkcs11Errors.map("C_Encrypt", ckr(code));
    assertThat(e.getClass().getSimpleName()).isEqualTo(type);
    assertThat(e).hasMessage("C_Encrypt failed: " + code).hasNoCause();
  }

  @ParameterizedTest
  @CsvSource({
    "CKR_GENERAL_ERROR, HsmDecryptionFailedException",
    "CKR_ENCRYPTED_DATA_INVALID, HsmDecryptionFailedException",
    "CKR_ENCRYPTED_DATA_LEN_RANGE, HsmDecryptionFailedException",
    "CKR_DEVICE_ERROR, HsmUnavailableException",
    "CKR_SESSION_HANDLE_INVALID, HsmUnavailableException",
    "CKR_KEY_HANDLE_INVALID, HsmException",
  })
  void mapDecrypt(String code, String type) {
    assertThat(Pkcs11Errors.mapDecrypt(ckr(code)).getClass().getSimpleName()).isEqualTo(type);
  }

  @ParameterizedTest
  @CsvSource({
    "CKR_WRAPPED_KEY_INVALID, HsmDecryptionFailedException",
    "CKR_WRAPPED_KEY_LEN_RANGE, HsmDecryptionFailedException",
    "CKR_UNWRAPPING_KEY_HANDLE_INVALID, HsmDecryptionFailedException",
    "CKR_GENERAL_ERROR, HsmDecryptionFailedException",
    "CKR_TOKEN_NOT_PRESENT, HsmUnavailableException",
    "CKR_TEMPLATE_INCONSISTENT, HsmException",
  })
  void mapUnwrapForDecrypt(String code, String type) {
    assertThat(Pkcs11Errors.mapUnwrapForDecrypt(ckr(code)).getClass().getSimpleName())
        .isEqualTo(type);
  }

  @Test
  void decryptionFailures_allCarryTheSameMessage() {
    assertThat(Pkcs11Errors.mapDecrypt(ckr("CKR_GENERAL_ERROR")))
        .hasMessage(Pkcs11Errors.DECRYPTION_FAILED);
    assertThat(Pkcs11Errors.mapUnwrapForDecrypt(ckr("CKR_WRAPPED_KEY_INVALID")))
        .hasMessage(Pkcs11Errors.DECRYPTION_FAILED);
  }
}
