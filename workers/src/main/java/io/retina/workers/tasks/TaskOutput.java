package io.retina.workers.tasks;

/**
 * What a task produced: the body of the job's result and its media type. Immutable by convention.
 */
public record TaskOutput(String mediaType, byte[] body) {}
