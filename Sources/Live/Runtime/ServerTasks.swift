/// The task executor the server's tasks prefer (its event loops: `ShopServer.run`), as a task-local
/// value, for the tasks server code starts with `Task`: an unstructured task inherits the
/// task-locals of the code that starts it but not its task executor preference, so without
/// `Task(executorPreference: ServerTasks.executor)` it would run on the global executor, and each
/// nonisolated call it makes would be a hop to the back of an event loop's queue. nil outside a
/// server, and when Swift concurrency stays off the loops.
public enum ServerTasks {
    @TaskLocal public static var executor: (any TaskExecutor)?
}
