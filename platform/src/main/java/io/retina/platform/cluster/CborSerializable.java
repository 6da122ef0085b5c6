package io.retina.platform.cluster;

/** Marks messages that cross nodes; they are serialized with Jackson CBOR (see cluster.conf). */
public interface CborSerializable {}
