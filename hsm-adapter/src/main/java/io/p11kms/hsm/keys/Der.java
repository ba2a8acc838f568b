package io.p11kms.hsm.keys;

import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.KeyPairType;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * The little DER the adapter writes itself: EC SubjectPublicKeyInfo and PKCS#8 (the JDK 17 has no
 * secp256k1, so it cannot build them for every curve), ECDSA-Sig-Value, and PKCS#1 DigestInfo.
 */
final class Der {
  private static final byte[] EC_PUBLIC_KEY_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };
  private static final byte[] P256 = {
    0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07
  };
  private static final byte[] P384 = {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x22};
  private static final byte[] P521 = {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x23};
  private static final byte[] SECP256K1 = {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x0a};

  private Der() {}

  /** The DER OID of an EC pair's curve, as CKA_EC_PARAMS takes it. */
  static byte[] curveOid(KeyPairType type) {
    return switch (type) {
      case EC_P256 -> P256.clone();
      case EC_P384 -> P384.clone();
      case EC_P521 -> P521.clone();
      case EC_SECP256K1 -> SECP256K1.clone();
      default -> throw new IllegalArgumentException(type + " is not an EC key pair type");
    };
  }

  /** Bytes of a field element (and of r, s and the private value) on the curve. */
  static int fieldBytes(KeyPairType type) {
    return (type.bits() + 7) / 8;
  }

  /** SubjectPublicKeyInfo of an EC public key, {@code point} uncompressed (04 || x || y). */
  static byte[] ecSubjectPublicKeyInfo(KeyPairType type, byte[] point) {
    byte[] algorithm = tlv(0x30, concat(EC_PUBLIC_KEY_OID, curveOid(type)));
    return tlv(0x30, concat(algorithm, bitString(point)));
  }

  /**
   * PKCS#8 PrivateKeyInfo of an EC private key (RFC 5915 ECPrivateKey inside, with its public key,
   * curve named in the algorithm only).
   */
  static byte[] ecPkcs8(KeyPairType type, byte[] privateValue, byte[] point) {
    byte[] d = fixedLength(privateValue, fieldBytes(type));
    byte[] ecPrivateKey =
        tlv(0x30, concat(new byte[] {0x02, 0x01, 0x01}, tlv(0x04, d), tlv(0xa1, bitString(point))));
    Arrays.fill(d, (byte) 0);
    byte[] algorithm = tlv(0x30, concat(EC_PUBLIC_KEY_OID, curveOid(type)));
    byte[] info =
        tlv(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, ecPrivateKey)));
    Arrays.fill(ecPrivateKey, (byte) 0);
    return info;
  }

  /**
   * The EC point in CKA_EC_POINT. PKCS#11 says a DER OCTET STRING; some tokens give the raw point.
   */
  static byte[] ecPoint(byte[] ecPointAttribute, KeyPairType type) {
    int raw = 1 + 2 * fieldBytes(type);
    if (ecPointAttribute.length == raw && ecPointAttribute[0] == 0x04) {
      return ecPointAttribute.clone();
    }
    if (ecPointAttribute.length > 2 && ecPointAttribute[0] == 0x04) {
      int offset = 2;
      int length = ecPointAttribute[1] & 0xff;
      if (length == 0x81) {
        length = ecPointAttribute[2] & 0xff;
        offset = 3;
      }
      if (length == raw && offset + length == ecPointAttribute.length) {
        return Arrays.copyOfRange(ecPointAttribute, offset, ecPointAttribute.length);
      }
    }
    throw new HsmException("the token returned an EC point that is not an uncompressed point");
  }

  /** ECDSA-Sig-Value (SEQUENCE of INTEGER r, s) from the token's r || s. */
  static byte[] ecdsaSignature(byte[] rs) {
    if (rs.length == 0 || rs.length % 2 != 0) {
      throw new HsmException("the token returned an ECDSA signature of odd length");
    }
    int half = rs.length / 2;
    BigInteger r = new BigInteger(1, Arrays.copyOfRange(rs, 0, half));
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(rs, half, rs.length));
    return tlv(0x30, concat(tlv(0x02, r.toByteArray()), tlv(0x02, s.toByteArray())));
  }

  /** PKCS#1 DigestInfo: the DER prefix of {@code digest}'s algorithm followed by the digest. */
  static byte[] digestInfo(DigestAlgorithm digest, byte[] digestValue) {
    byte[] oid =
        switch (digest) {
          case SHA_1 -> new byte[] {0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a};
          case SHA_256 -> sha2Oid(1);
          case SHA_384 -> sha2Oid(2);
          case SHA_512 -> sha2Oid(3);
        };
    byte[] algorithm = tlv(0x30, concat(oid, new byte[] {0x05, 0x00}));
    return tlv(0x30, concat(algorithm, tlv(0x04, digestValue)));
  }

  private static byte[] sha2Oid(int last) {
    return new byte[] {
      0x06, 0x09, 0x60, (byte) 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, (byte) last
    };
  }

  /** An unsigned big-endian value left-padded with zeros to {@code length} bytes. */
  static byte[] fixedLength(byte[] value, int length) {
    int start = 0;
    while (start < value.length - length && value[start] == 0) {
      start++;
    }
    int significant = value.length - start;
    if (significant > length) {
      throw new HsmException("the token returned a value longer than the curve's field");
    }
    byte[] out = new byte[length];
    System.arraycopy(value, start, out, length - significant, significant);
    return out;
  }

  private static byte[] bitString(byte[] bytes) {
    return tlv(0x03, concat(new byte[] {0x00}, bytes));
  }

  static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
    out.write(tag);
    int length = value.length;
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else if (length < 0x10000) {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length);
    } else {
      throw new IllegalArgumentException("DER value too long");
    }
    out.writeBytes(value);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
