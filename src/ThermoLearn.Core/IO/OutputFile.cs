namespace ThermoLearn.IO;

/// <summary>
/// An output written whole or not at all, for writers outside the library's own formats (the CLI's report and CSV
/// tables, Neural's saved networks). The bytes go to a hidden temporary file in the destination's folder
/// (<c>.NAME.PID.GUID.tmp</c>), which replaces <c>path</c> by a rename only once <c>write</c> has returned; until then
/// an existing file at <c>path</c> is untouched, and a failure removes the temporary file. The library's own writers
/// (trajectory files, sidecars, statistics, energetics, protocol and process files) write the same way.
/// </summary>
public static class OutputFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/> (the stream can be read and sought too, as HDF5
    /// writers need). A missing folder, a folder that cannot be written or a failed write is an
    /// <see cref="InvalidInputException"/> naming <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, Action<Stream> write) => AtomicFile.Write(path, write);

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/>, as <see cref="Write"/>.</summary>
    public static void WriteText(string path, string text) => AtomicFile.WriteText(path, text);

    /// <summary>
    /// Deletes the temporary files of every write still in progress in this process and returns how many were removed:
    /// for a signal handler that ends the process, so that an interrupted run leaves neither a partial output nor a
    /// hidden temporary file.
    /// </summary>
    public static int DeleteUnfinished() => AtomicFile.DeletePending();
}
