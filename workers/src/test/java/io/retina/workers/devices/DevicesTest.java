package io.retina.workers.devices;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class DevicesTest {
  @Test
  void reportsTheDeviceThisBuildAndMachineCanUse() {
    Devices.Device d = Devices.current();
    boolean gpuBuild = System.getProperty("retina.expect.gpu") != null;
    // the CPU build on a machine without a GPU (this project's CI) must say so; the GPU profile
    // check
    // runs with -Dretina.expect.gpu on a GPU machine
    assertEquals(gpuBuild ? "gpu" : "cpu", d.kind(), d.description());
    assertSame(d, Devices.current(), "probed once");
  }
}
