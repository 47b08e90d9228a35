"""Animation engines: the Engine protocol, PoseSpec, and the engine packages."""
