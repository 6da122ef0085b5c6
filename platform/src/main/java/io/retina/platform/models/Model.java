package io.retina.platform.models;

/**
 * A model as the registry knows it: its task (every version's), its description, and the version
 * that was active before the current one, which a rollback re-activates.
 *
 * @param previousVersion null when there is nothing to roll back to
 */
public record Model(String name, String task, String description, Integer previousVersion) {}
