using System.Runtime.InteropServices;

namespace ThermoLearn.IO;

/// <summary>
/// What a path names on disk, for telling whether two paths are the same file: the canonical path (absolute,
/// every symbolic link resolved) and, when the file exists on Linux, its (device, inode) pair, which also
/// identifies hard links. Two identities are the same file when both have an inode and the inodes agree, or
/// otherwise when the canonical paths agree. Used by the CLI to refuse an output that would overwrite an input
/// or another output before any work is done.
/// </summary>
public readonly record struct FileIdentity(string CanonicalPath, ulong Device, ulong Inode, bool HasInode)
{
    /// <summary>The identity of <paramref name="path"/>, which need not exist (then its folder is resolved).</summary>
    public static FileIdentity Of(string path)
    {
        string full = Path.GetFullPath(path);
        bool exists = File.Exists(full) || Directory.Exists(full);
        string canonical = exists ? Canonical(full) : CanonicalOfMissing(full);
        if (exists && Native.TryStat(full, out ulong device, out ulong inode))
            return new FileIdentity(canonical, device, inode, true);
        return new FileIdentity(canonical, 0, 0, false);
    }

    /// <summary>Whether the two identities name the same file (hard links and symbolic links included).</summary>
    public bool SameFileAs(FileIdentity other) =>
        HasInode && other.HasInode
            ? Device == other.Device && Inode == other.Inode
            : string.Equals(CanonicalPath, other.CanonicalPath, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether this is a different path to the same file, i.e. a hard link (not a symbolic link) of <paramref name="other"/>.</summary>
    public bool IsHardLinkOf(FileIdentity other) =>
        SameFileAs(other) && HasInode && other.HasInode
        && !string.Equals(CanonicalPath, other.CanonicalPath, StringComparison.Ordinal);

    private static string Canonical(string full)
    {
        if (Native.TryRealPath(full) is { } real) return real;
        // Not Linux/macOS libc: resolve the last link, if any, with the BCL.
        try
        {
            var target = File.Exists(full) ? new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)
                : new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true);
            return target?.FullName ?? full;
        }
        catch (IOException) { return full; }
    }

    private static string CanonicalOfMissing(string full)
    {
        string? folder = Path.GetDirectoryName(full);
        if (folder is null) return full;
        string name = Path.GetFileName(full);
        string parent = Directory.Exists(folder) ? Canonical(folder) : CanonicalOfMissing(folder);
        return Path.Combine(parent, name);
    }

    /// <summary>libc's stat(2) and realpath(3); every failure (other OS, old glibc) falls back to path comparison.</summary>
    private static class Native
    {
        // struct stat begins with st_dev then st_ino (8 bytes each) on Linux x86-64 and AArch64; 256 bytes covers the whole struct.
        [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
        private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);

        [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
        private static extern IntPtr RealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

        [DllImport("libc", EntryPoint = "free")]
        private static extern void Free(IntPtr pointer);

        public static bool TryStat(string path, out ulong device, out ulong inode)
        {
            device = inode = 0;
            if (!OperatingSystem.IsLinux()) return false;
            try
            {
                var buffer = new byte[256];
                if (Stat(path, buffer) != 0) return false;
                device = BitConverter.ToUInt64(buffer, 0);
                inode = BitConverter.ToUInt64(buffer, 8);
                return true;
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return false; }
        }

        public static string? TryRealPath(string path)
        {
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return null;
            try
            {
                IntPtr p = RealPath(path, IntPtr.Zero);
                if (p == IntPtr.Zero) return null;
                try { return Marshal.PtrToStringUTF8(p); }
                finally { Free(p); }
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return null; }
        }
    }
}
