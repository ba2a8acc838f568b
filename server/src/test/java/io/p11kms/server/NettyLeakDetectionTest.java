package io.p11kms.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NettyLeakDetectionTest {
  private String before;

  @BeforeEach
  void remember() {
    before = System.getProperty(NettyLeakDetection.LEVEL);
  }

  @AfterEach
  void restore() {
    if (before == null) {
      System.clearProperty(NettyLeakDetection.LEVEL);
    } else {
      System.setProperty(NettyLeakDetection.LEVEL, before);
    }
  }

  @Test
  void unset_isTurnedOff() {
    System.clearProperty(NettyLeakDetection.LEVEL);
    NettyLeakDetection.offUnlessSet();
    assertThat(System.getProperty(NettyLeakDetection.LEVEL)).isEqualTo("disabled");
  }

  @Test
  void theOperatorsLevel_staysAsSet() {
    System.setProperty(NettyLeakDetection.LEVEL, "paranoid");
    NettyLeakDetection.offUnlessSet();
    assertThat(System.getProperty(NettyLeakDetection.LEVEL)).isEqualTo("paranoid");
  }

  @Test
  void theLevelsName_isTheOneTheShadedNettyReads() throws Exception {
    Class<?> detector = Class.forName("io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector");
    var field = detector.getDeclaredField("PROP_LEVEL");
    field.setAccessible(true);
    assertThat(field.get(null)).isEqualTo(NettyLeakDetection.LEVEL);
  }
}
